"""Money on a customer's account: one append-only ledger (ledger_entries) of payments received, their
allocation to invoices, credit notes, reversals and write-offs, from which every invoice's paid, credited,
written-off and due amounts, its status and the customer's credit balance are derived (ledger_refresh, one
SQL function).

- `postings`: the use cases other capabilities call (a payment received, a reversal, a credit note, a
  write-off, account credit applied by the billing run) and `models` (what each answers).
- `sql`: the set-based SQL behind them; `figures_sql`: the derived figures the readers share.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["figures_sql", "models", "postings"]
