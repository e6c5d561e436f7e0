"""The customer's account: contact, billing settings, services as the customer sees them."""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["billing_sql", "services_sql"]
