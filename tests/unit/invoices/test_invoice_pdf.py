"""The tax-invoice PDF (services/invoice_pdf): read back with a PDF text extractor, every field the VAT Act
and domain.md ask for is on it; the same input gives the same bytes; page 1 draws something."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pypdf
import pypdfium2
import pytest

from isp_billing.invoices.pdf import (
    DocumentLine,
    DocumentUsage,
    InvoiceDocument,
    Supplier,
    address_lines,
    money_text,
    render,
)

SUPPLIER = Supplier(
    name="Jacaranda Fibre (Pty) Ltd",
    address=("7 Oxford Road", "Rosebank", "Johannesburg", "2196"),
    vat_number="4123456789",
    bank_name="First National Bank",
    bank_account_name="Jacaranda Fibre",
    bank_account_number="62000000001",
    bank_branch_code="250655",
)

INVOICE = InvoiceDocument(
    invoice_number="INV-2026-00042",
    kind="recurring",
    invoice_date=date(2026, 2, 25),
    due_date=date(2026, 3, 4),
    period_start=date(2026, 2, 25),
    period_end=date(2026, 3, 24),
    customer_name="Thandi Nkosi",
    company_name="Nkosi Trading CC",
    customer_vat_number="4987654321",
    customer_address=("12 Jacaranda Ave", "Parkhurst", "Johannesburg", "2193"),
    account_number="CUS-2026-00007",
    lines=(
        DocumentLine("Fibre 100/100 \u2013 monthly", date(2026, 2, 25), date(2026, 3, 24), Decimal("699.00")),
        DocumentLine(
            "Pro-rata 10\u201324 Feb: 15 of 31 days of R699.00",
            date(2026, 2, 10),
            date(2026, 2, 24),
            Decimal("338.23"),
        ),
    ),
    subtotal=Decimal("901.94"),
    vat_rate=Decimal("15.00"),
    vat_amount=Decimal("135.29"),
    total_amount=Decimal("1037.23"),
    amount_paid=Decimal("37.23"),
    amount_due=Decimal("1000.00"),
)


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_a_tax_invoice_shows_every_field_a_tax_invoice_needs():
    # Given a business customer's invoice with two lines
    # When it is rendered and read back
    pdf = render(INVOICE, SUPPLIER)
    text = _text(pdf)
    # Then it is one A4 page showing the words, both parties, the numbers and how to pay
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    expected = [
        "Tax Invoice",
        "Jacaranda Fibre (Pty) Ltd",
        "7 Oxford Road",
        "Rosebank",
        "VAT No. 4123456789",
        "Nkosi Trading CC",
        "Thandi Nkosi",
        "12 Jacaranda Ave",
        "Customer VAT No. 4987654321",
        "INV-2026-00042",
        "25 Feb 2026",
        "04 Mar 2026",
        "25 Feb 2026 - 24 Mar 2026",
        "Fibre 100/100 - monthly",
        "Pro-rata 10-24 Feb: 15 of 31 days of R699.00",
        "10 Feb 2026 - 24 Feb 2026",
        "R699.00",
        "R338.23",
        "Total excluding VAT R901.94",
        "VAT at 15.00% R135.29",
        "Total R1,037.23",
        "Amount paid R37.23",
        "Amount due R1,000.00",
        "First National Bank",
        "account number 62000000001, branch code 250655",
        "Use your account number CUS-2026-00007 as the payment reference",
    ]
    missing = [field for field in expected if field not in text]
    assert missing == []
    assert "Credit Note" not in text


def test_account_credit_is_shown_below_the_total_never_as_a_line():
    # Given the R1,037.23 invoice with R100.00 of account credit applied after tax and R37.23 paid
    credited = replace(INVOICE, amount_paid=Decimal("137.23"), account_credit_applied=Decimal("100.00"))
    credited = replace(credited, amount_due=Decimal("900.00"))
    # When rendered
    text = _text(render(credited, SUPPLIER))
    # Then the VAT is on the whole supply, and below the total the credit applied, the payment and what is due
    for field in (
        "VAT at 15.00% R135.29",
        "Total R1,037.23",
        "Less: account credit applied -R100.00",
        "Amount paid R37.23",
        "Amount due R900.00",
    ):
        assert field in text
    assert text.index("Total R1,037.23") < text.index("Less: account credit applied")
    assert text.index("Less: account credit applied") < text.index("Amount due R900.00")


def test_a_consumer_invoice_shows_no_vat_number_of_the_customer():
    # Given a consumer (no company, no VAT number)
    consumer = replace(INVOICE, company_name=None, customer_vat_number=None)
    # When rendered
    text = _text(render(consumer, SUPPLIER))
    # Then the person is named and no customer VAT line appears
    assert "Thandi Nkosi" in text and "Customer VAT No." not in text and "Nkosi Trading" not in text


def test_a_credit_note_says_so_and_names_the_invoice_it_corrects():
    # Given a credit note on INV-2026-00042
    note = replace(
        INVOICE,
        invoice_number="CRN-2026-00003",
        kind="credit_note",
        lines=(DocumentLine("Credit: outage 3-5 March", None, None, Decimal("-100.00")),),
        subtotal=Decimal("-86.96"),
        vat_amount=Decimal("-13.04"),
        total_amount=Decimal("-100.00"),
        amount_paid=Decimal("0.00"),
        amount_due=Decimal("-100.00"),
        credit_note_for_number="INV-2026-00042",
    )
    # When rendered
    text = _text(render(note, SUPPLIER))
    # Then it is a credit note, not a tax invoice, and names the original; credits print as -R
    assert "Credit Note" in text and "Tax Invoice" not in text
    assert "Corrects invoice INV-2026-00042" in text
    assert "CRN-2026-00003" in text and "-R100.00" in text and "VAT at 15.00% -R13.04" in text
    assert "How to pay" not in text


def test_the_same_invoice_renders_to_the_same_bytes():
    # Given one invoice / When it is rendered twice / Then the bytes are identical (the document's dates
    # are the invoice date, not the time of rendering)
    first, second = render(INVOICE, SUPPLIER), render(INVOICE, SUPPLIER)
    assert first == second
    # and a different invoice differs
    assert render(replace(INVOICE, invoice_number="INV-2026-00043"), SUPPLIER) != first


def test_page_one_renders_to_a_png_that_is_not_blank():
    # Given the PDF / When page 1 is rasterised by PDFium
    document = pypdfium2.PdfDocument(render(INVOICE, SUPPLIER))
    image = document[0].render(scale=1).to_pil().convert("L")
    # Then it is A4-shaped and a good share of it is ink, not white paper
    width, height = image.size
    assert abs(height / width - 297 / 210) < 0.01
    histogram = image.histogram()
    dark = sum(histogram[:128])
    assert dark > 0.005 * width * height
    png = io.BytesIO()
    image.save(png, format="PNG")
    assert png.getvalue().startswith(b"\x89PNG")


def test_many_lines_flow_onto_a_second_page():
    # Given 60 lines
    many = replace(
        INVOICE, lines=tuple(DocumentLine(f"Line {n}", None, None, Decimal("1.00")) for n in range(60))
    )
    # When rendered / Then the lines continue on page 2 and the totals are still printed
    reader = pypdf.PdfReader(io.BytesIO(render(many, SUPPLIER)))
    assert len(reader.pages) >= 2
    assert "Line 59" in _text(render(many, SUPPLIER)) and "Amount due" in reader.pages[-1].extract_text()


@pytest.mark.parametrize(
    ("stored", "lines"),
    [
        (
            {"street": "1 Main Rd", "suburb": "Sea Point", "city": "Cape Town", "postal_code": "8005"},
            ("1 Main Rd", "Sea Point", "Cape Town", "8005"),
        ),
        ("12 Long St, Cape Town", ("12 Long St", "Cape Town")),
        (["Unit 4", "Durban"], ("Unit 4", "Durban")),
        (None, ()),
    ],
)
def test_stored_addresses_print_as_lines(stored, lines):
    assert address_lines(stored) == lines


def test_money_prints_in_rand_with_credits_negative():
    assert money_text(Decimal("1234.5")) == "R1,234.50"
    assert money_text(Decimal("-338.225")) == "-R338.23"  # half up


def test_the_previous_periods_usage_prints_as_a_small_table():
    # Given an invoice carrying February's usage of two services (one capped)
    invoice = replace(
        INVOICE,
        usage=(
            DocumentUsage(
                "LTE 100 GB",
                date(2026, 1, 25),
                date(2026, 2, 24),
                Decimal("28800"),
                Decimal("86400"),
                Decimal("115200"),
                100,
            ),
            DocumentUsage(
                "Fibre 100/100",
                date(2026, 1, 25),
                date(2026, 2, 24),
                Decimal("1.5"),
                Decimal("2.25"),
                Decimal("3.75"),
                None,
            ),
        ),
    )
    # When it is rendered and read back
    text = _text(render(invoice, SUPPLIER))
    # Then the usage table shows each service's period, MB to three places and its cap
    assert "Usage in the previous period" in text
    for expected in ("LTE 100 GB", "28,800.000", "86,400.000", "115,200.000", "100 GB", "3.750"):
        assert expected in text
    # And an invoice without usage has no table
    assert "Usage in the previous period" not in _text(render(INVOICE, SUPPLIER))
