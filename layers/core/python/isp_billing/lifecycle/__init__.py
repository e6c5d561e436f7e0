"""A service's life: activate, suspend, reactivate, cancel, end now; the provider flags and the audit trail.

- `actions`: the use cases; `rules`: who may do what to which status (pure); `models`: the API models.
- `provider` (`provider_intents_sql`): intents committed before every Interstellio call; `provider_sync`:
  the retry job for owed flags.
- `queries`: the admin's reads; `services_sql`, `suspensions_sql`, `audit_sql`: the SQL.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = [
    "actions",
    "audit_sql",
    "models",
    "provider",
    "provider_sync",
    "rules",
    "services_sql",
    "suspensions_sql",
]
