"""Time to render one tax-invoice PDF (median of 20) and its size, next to a floor measured in the same run:
fpdf2 writing an empty A4 page.

Run: make perf (or .venv/bin/pytest tests/perf/test_invoice_pdf_perf.py -m perf -s)
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import pytest
from fpdf import FPDF

from isp_billing.invoices.pdf import render
from tests.unit.invoices.test_invoice_pdf import INVOICE, SUPPLIER

RUNS = 20


def _median_ms(work: Callable[[], bytes]) -> float:
    work()  # warm: fonts metrics and modules loaded once, as in a warm Lambda
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def _empty_page() -> bytes:
    pdf = FPDF(format="A4")
    pdf.add_page()
    return bytes(pdf.output())


@pytest.mark.perf
def test_render_one_invoice_pdf():
    floor = _median_ms(_empty_page)
    invoice = _median_ms(lambda: render(INVOICE, SUPPLIER))
    size = len(render(INVOICE, SUPPLIER))
    print(
        f"\ninvoice PDF, median of {RUNS}: floor (empty A4 page) {floor:.2f} ms; "
        f"a two-line tax invoice {invoice:.2f} ms (ratio {invoice / floor:.1f}x); size {size:,} bytes"
    )
    # A Lambda of 512 MB renders a day's invoices within minutes: far below a second each.
    assert invoice < 500 and size < 50_000
