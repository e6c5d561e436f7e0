"""Daily data usage: the Interstellio sync and pushes, manual corrections, cap alerts, the customer's reads.

- `ingest`: the one write path (temporary table, one upsert, cap alerts); `sql` its SQL and the shared reads.
- `sync` (the sync-usage-data job), `webhooks` (pushed usage, usage-meter triggers), `corrections`.
- `queries`: the customer's current period and history; `models`: API models and MB formatting.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["ingest", "models", "sql"]
