"""The e-mail outbox: queued in the transaction of the event that causes it, sent by a job.

- `queue_sql`: queue a notification (any capability); `outbox_sql`, `sender`, `email_transport`: delivery;
  `templates`: one module per notification kind.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["queue_sql"]
