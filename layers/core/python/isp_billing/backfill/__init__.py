"""The one-off order backfill, its review queue and the validation errors jobs record.

- `orders` (`orders_sql`): the backfill job; `review` (`review_queue_sql`, `validation_errors_sql`): the
  people's side, resolving and dismissing.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = []
