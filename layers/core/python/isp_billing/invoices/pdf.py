"""The tax invoice (or credit note) as an A4 PDF, rendered with fpdf2 (pure Python, pinned in the layer).

What a South African tax invoice must show (VAT Act s20, domain.md): the words "Tax Invoice", the supplier's
name, address and VAT number, the customer's name and address (and VAT number for a business), the number,
the date, each line, the total excluding VAT, the VAT amount and rate, and the total. We add the period,
the amount due and how to pay (the account number is the EFT reference). A credit note says "Credit Note"
and names the invoice it corrects.

Deterministic: the document's creation date is the invoice date (midnight SAST), not the time of rendering,
so the same invoice always gives the same bytes (a re-render after a lost upload stores an identical object).
The built-in Helvetica needs Latin-1 text: anything outside it is spelt in ASCII (an en dash as "-"), never
dropped silently into a rendering error.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from fpdf import FPDF

from isp_billing.clock import SAST
from isp_billing.money import to_cents
from isp_billing.settings import get_settings


@dataclass(frozen=True)
class Supplier:
    name: str
    address: tuple[str, ...]
    vat_number: str
    bank_name: str
    bank_account_name: str
    bank_account_number: str
    bank_branch_code: str


@dataclass(frozen=True)
class DocumentLine:
    description: str
    period_start: date | None
    period_end: date | None
    amount: Decimal


@dataclass(frozen=True)
class DocumentUsage:
    """A service's usage over the previous period, in MB (the invoice's usage totals)."""

    service_name: str
    period_start: date
    period_end: date
    upload_mb: Decimal
    download_mb: Decimal
    total_mb: Decimal
    data_cap_gb: int | None


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything printed on one invoice; read from the database by repositories/invoice_documents."""

    invoice_number: str
    kind: str
    invoice_date: date
    due_date: date
    period_start: date | None
    period_end: date | None
    customer_name: str
    company_name: str | None
    customer_vat_number: str | None
    customer_address: tuple[str, ...]
    account_number: str
    lines: tuple[DocumentLine, ...]
    subtotal: Decimal
    vat_rate: Decimal
    vat_amount: Decimal
    total_amount: Decimal
    amount_paid: Decimal
    amount_due: Decimal
    credit_note_for_number: str | None = None
    usage: tuple[DocumentUsage, ...] = ()
    amount_credited: Decimal = Decimal("0.00")
    # money on account the billing run (or a later allocation) applied to the invoice, after tax
    account_credit_applied: Decimal = Decimal("0.00")

    @property
    def title(self) -> str:
        return "Credit Note" if self.kind == "credit_note" else "Tax Invoice"


def supplier_from_settings() -> Supplier:
    settings = get_settings()
    return Supplier(
        name=settings.supplier_name,
        address=tuple(part.strip() for part in settings.supplier_address.split("|") if part.strip()),
        vat_number=settings.supplier_vat_number,
        bank_name=settings.supplier_bank_name,
        bank_account_name=settings.supplier_bank_account_name,
        bank_account_number=settings.supplier_bank_account_number,
        bank_branch_code=settings.supplier_bank_branch_code,
    )


def money_text(value: Decimal) -> str:
    """R1,234.56 and -R338.23 (a credit)."""
    cents = to_cents(value)
    return f"-R{-cents:,.2f}" if cents < 0 else f"R{cents:,.2f}"


def period_text(start: date | None, end: date | None) -> str:
    if start is None or end is None:
        return ""
    return f"{start:%d %b %Y} - {end:%d %b %Y}"


def address_lines(value: Any) -> tuple[str, ...]:
    """A stored address (jsonb: an object of parts, a list of lines, or one string) as printable lines."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.replace("\n", ",").split(",") if part.strip())
    if isinstance(value, list):
        return tuple(str(part).strip() for part in value if str(part).strip())
    if isinstance(value, dict):
        order = ("line1", "street", "line2", "complex", "suburb", "city", "province", "postal_code", "code")
        known = [str(value[key]).strip() for key in order if value.get(key)]
        rest = [str(v).strip() for k, v in value.items() if k not in order and isinstance(v, str | int)]
        return tuple(part for part in known + rest if part)
    return ()


def _latin1(text: str) -> str:
    """Helvetica's alphabet: typographic punctuation in ASCII, accents kept where Latin-1 has them."""
    replaced = text.translate(_ASCII_PUNCTUATION)
    try:
        replaced.encode("latin-1")
        return replaced
    except UnicodeEncodeError:
        decomposed = unicodedata.normalize("NFKD", replaced)
        return "".join(c if ord(c) < 256 else "?" for c in decomposed if not unicodedata.combining(c))


_ASCII_PUNCTUATION = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
    }
)


class _Pdf(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self._footer_text = footer_text

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, self._footer_text, align="C")


def render(document: InvoiceDocument, supplier: Supplier) -> bytes:
    """The PDF's bytes; the same document and supplier always give the same bytes."""
    pdf = _Pdf(_latin1(f"{supplier.name}  |  VAT No. {supplier.vat_number}  |  {document.invoice_number}"))
    pdf.set_creation_date(datetime.combine(document.invoice_date, time(0), tzinfo=SAST))
    pdf.set_title(_latin1(f"{document.title} {document.invoice_number}"))
    pdf.set_author(_latin1(supplier.name))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    _header(pdf, document, supplier)
    _parties(pdf, document)
    _lines_table(pdf, document.lines)
    _totals(pdf, document)
    _usage_table(pdf, document.usage)
    _how_to_pay(pdf, document, supplier)
    return bytes(pdf.output())


def _text(pdf: FPDF, text: str, *, size: float = 10, bold: bool = False, height: float = 5) -> None:
    pdf.set_font("Helvetica", style="B" if bold else "", size=size)
    pdf.cell(0, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")


def _header(pdf: FPDF, document: InvoiceDocument, supplier: Supplier) -> None:
    top = pdf.get_y()
    pdf.set_font("Helvetica", style="B", size=20)
    pdf.cell(0, 10, document.title, align="R")
    pdf.set_xy(pdf.l_margin, top)
    _text(pdf, supplier.name, size=14, bold=True, height=8)
    for line in supplier.address:
        _text(pdf, line, size=9, height=4.5)
    _text(pdf, f"VAT No. {supplier.vat_number}", size=9, height=4.5)
    pdf.ln(6)


def _parties(pdf: FPDF, document: InvoiceDocument) -> None:
    top = pdf.get_y()
    left_width = 100
    _text(pdf, "Bill to", size=9, bold=True)
    names = [document.company_name, document.customer_name] if document.company_name else []
    for line in [n for n in names if n] or [document.customer_name]:
        pdf.set_font("Helvetica", size=10)
        pdf.cell(left_width, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    for line in document.customer_address:
        pdf.set_font("Helvetica", size=9)
        pdf.cell(left_width, 4.5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    if document.customer_vat_number:
        pdf.cell(left_width, 4.5, _latin1(f"Customer VAT No. {document.customer_vat_number}"))
        pdf.ln(4.5)
    left_bottom = pdf.get_y()

    facts = [
        ("Credit note no." if document.kind == "credit_note" else "Invoice no.", document.invoice_number),
        ("Date", f"{document.invoice_date:%d %b %Y}"),
        ("Due date", f"{document.due_date:%d %b %Y}"),
        ("Account", document.account_number),
    ]
    period = period_text(document.period_start, document.period_end)
    if period:
        facts.append(("Period", period))
    if document.credit_note_for_number:
        facts.append(("Corrects invoice", document.credit_note_for_number))
    pdf.set_y(top)
    for label, value in facts:
        pdf.set_x(pdf.l_margin + 105)
        pdf.set_font("Helvetica", style="B", size=9)
        pdf.cell(32, 5, label)
        pdf.set_font("Helvetica", size=9)
        pdf.cell(0, 5, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 6)


def _lines_table(pdf: FPDF, lines: Sequence[DocumentLine]) -> None:
    widths = (100, 50, 30)
    pdf.set_font("Helvetica", style="B", size=9)
    pdf.set_fill_color(230, 230, 230)
    for label, width, align in zip(
        ("Description", "Period", "Amount (incl. VAT)"), widths, "LLR", strict=True
    ):
        pdf.cell(width, 7, label, border="B", align=align, fill=True)
    pdf.ln(7)
    pdf.set_font("Helvetica", size=9)
    for line in lines:
        # A long description wraps inside its column; the row is as tall as its wrapped text.
        rows = pdf.multi_cell(widths[0], 5, _latin1(line.description), dry_run=True, output="LINES")
        height = 5 * max(1, len(rows) if isinstance(rows, list) else 1)
        x, y = pdf.get_x(), pdf.get_y()
        pdf.multi_cell(widths[0], 5, _latin1(line.description), new_x="RIGHT", new_y="TOP")
        pdf.set_xy(x + widths[0], y)
        pdf.cell(widths[1], height, period_text(line.period_start, line.period_end))
        pdf.cell(widths[2], height, money_text(line.amount), align="R")
        pdf.ln(height)
    pdf.cell(sum(widths), 0, "", border="T", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def totals_rows(document: InvoiceDocument) -> list[tuple[str, Decimal, bool]]:
    """The totals block: the supply and its VAT, then below the total what settled it (money on account
    applied after tax, then payments and credit notes) and what is still due."""
    rows = [
        ("Total excluding VAT", document.subtotal, False),
        (f"VAT at {document.vat_rate:.2f}%", document.vat_amount, False),
        ("Total", document.total_amount, True),
    ]
    if document.kind == "credit_note":
        return [*rows, ("Amount paid", document.amount_paid, False), ("Credited", document.amount_due, True)]
    if document.account_credit_applied > 0:
        rows.append(("Less: account credit applied", -document.account_credit_applied, False))
    settled = document.amount_paid + document.amount_credited - document.account_credit_applied
    label = "Amount paid" if document.amount_credited == 0 else "Paid and credited"
    if settled != 0 or document.account_credit_applied == 0:
        rows.append((label, settled, False))
    rows.append(("Amount due", document.amount_due, True))
    return rows


def _totals(pdf: FPDF, document: InvoiceDocument) -> None:
    rows = totals_rows(document)
    for label, amount, bold in rows:
        pdf.set_x(pdf.l_margin + 100)
        pdf.set_font("Helvetica", style="B" if bold else "", size=10)
        pdf.cell(50, 6, label)
        pdf.cell(30, 6, money_text(amount), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)


def mb_text(value: Decimal) -> str:
    return f"{Decimal(value).quantize(Decimal('0.001')):,.3f}"


def _usage_table(pdf: FPDF, usage: Sequence[DocumentUsage]) -> None:
    """The previous period's usage per service (MB, 1 GB = 1024 MB), small, after the totals."""
    if not usage:
        return
    _text(pdf, "Usage in the previous period", size=10, bold=True, height=6)
    widths = (50, 45, 25, 25, 25, 10)
    pdf.set_font("Helvetica", style="B", size=8)
    headings = ("Service", "Period", "Upload MB", "Download MB", "Total MB", "Cap")
    for label, width, align in zip(headings, widths, "LLRRRR", strict=True):
        pdf.cell(width, 5, label, border="B", align=align)
    pdf.ln(5)
    pdf.set_font("Helvetica", size=8)
    for row in usage:
        cap = "-" if row.data_cap_gb is None else f"{row.data_cap_gb} GB"
        values = (
            _latin1(row.service_name)[:34],
            period_text(row.period_start, row.period_end),
            mb_text(row.upload_mb),
            mb_text(row.download_mb),
            mb_text(row.total_mb),
            cap,
        )
        for value, width, align in zip(values, widths, "LLRRRR", strict=True):
            pdf.cell(width, 4.5, value, align=align)
        pdf.ln(4.5)
    pdf.ln(6)


def _how_to_pay(pdf: FPDF, document: InvoiceDocument, supplier: Supplier) -> None:
    if document.kind == "credit_note":
        _text(pdf, f"This credit note corrects invoice {document.credit_note_for_number}.", size=9)
        return
    _text(pdf, "How to pay", size=10, bold=True, height=6)
    for line in (
        "Debit order customers: we collect on your debit order date; nothing to do.",
        f"EFT: {supplier.bank_name}, account name {supplier.bank_account_name},",
        f"account number {supplier.bank_account_number}, branch code {supplier.bank_branch_code}.",
        f"Use your account number {document.account_number} as the payment reference.",
    ):
        _text(pdf, line, size=9, height=4.5)
