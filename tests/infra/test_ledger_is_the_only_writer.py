"""Money figures have one writer: an invoice's paid, credited, written-off and account-credit amounts and a
customer's credit balance are written by the ledger's SQL function (ledger_refresh) and nowhere else in the
code, so they can never disagree with the ledger's rows."""

from __future__ import annotations

import re

from isp_billing_cli.template import ROOT

FIGURES = ("amount_paid", "amount_credited", "amount_written_off", "account_credit_applied", "credit_balance")
# An SQL UPDATE whose SET list assigns one of them (the SET list runs to the next FROM/WHERE/RETURNING).
ASSIGNMENT = re.compile(
    rf"\bupdate\s+(?:public\.)?\w+(?:\s+\w+)?\s+set\b(?:(?!\bwhere\b|\bfrom\b|\breturning\b).)*?"
    rf"\b({'|'.join(FIGURES)})\s*=",
    re.IGNORECASE | re.DOTALL,
)
SOURCES = [ROOT / "layers/core/python/isp_billing", ROOT / "functions", ROOT / "infra/cli"]


def test_no_code_outside_the_ledger_assigns_a_money_figure() -> None:
    # Given every module of the layer, the functions and the CLI
    writers = [
        f"{path.relative_to(ROOT)}: {match.group(1)}"
        for folder in SOURCES
        for path in sorted(folder.rglob("*.py"))
        for match in ASSIGNMENT.finditer(path.read_text())
    ]
    # Then none of them assigns a figure the ledger derives (ledger_refresh in the migrations is the writer)
    assert writers == []
