"""The billing run and everything that decides what an invoice charges.

- `run`: the generate-invoices job (claim, chunk, write, issue); `run_sql` its SQL.
- `facts` / `facts_models`: what the run reads per customer; `rules`: the pure rules that turn facts into
  lines (recurring and catch-up lines, price changes, pauses, cancellations, once-off charges, the totals;
  the arithmetic of pro-rata and VAT extraction is `isp_billing.money`); `overage`: out-of-bundle usage.
- `periods`: billing periods from a billing day (the 29th-31st in short months, pro-rata day counts).
- `inputs` (`inputs_sql`, `lookups_sql`): price changes and once-off charges entered by billing admins.
- `billing_day` (`billing_day_sql`): a customer's billing-day change (the bridging period or the overlap
  credit that keeps the recorded sequence of periods whole); the customer routes call it.
- `preview`: what a run would write, writing nothing; `summary`: the customer's billing summary.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["billing_day", "inputs", "lookups_sql", "models", "periods", "rules", "run_sql"]
