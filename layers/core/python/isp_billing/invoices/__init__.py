"""Invoices and credit notes after the run has issued them.

- `queries`: the customer's and the admin's reads (`sql`, `actions_sql` for the action log and payments).
- `admin_actions` (void, write-off) and `credit_notes`: the admin's corrections.
- `line_reasons`: each line's reason in words; `pdf`: the A4 tax invoice; `delivery`, `pdf_http`,
  `render_job`, `documents_sql`: rendering, storing and e-mailing the PDF; `issue_hooks`: what the run calls
  when it issues invoices.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["actions_sql", "delivery", "issue_hooks", "models", "sql"]
