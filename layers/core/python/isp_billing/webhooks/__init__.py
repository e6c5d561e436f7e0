"""Inbound provider deliveries, recorded once per delivery id so a redelivery changes nothing."""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["deliveries_sql"]
