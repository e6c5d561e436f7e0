"""Getting paid: debit-order runs, the bank's answers, manual payments and overdue enforcement.

- `debit_orders` (`debit_orders_sql`): the process-debit-orders job; `action_dates`: SA business days.
- `reconciliation` (`reconciliation_sql`): NetCash statements applied to collections (paid, unpaid codes).
- `payments` (`payments_sql`, `models`): manual payments, reversals and the payment lists.
- `overdue` (`overdue_sql`): suspension for non-payment and reactivation once paid.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["action_dates", "payments"]
