"""The package catalogue: packages, their effective-dated prices, price increases for their subscribers.

- `packages` (`sql`, `models`): the admin's catalogue and the customer's sellable list; a package with
  subscribers is retired, never deleted; its price, cap and out-of-bundle price are history
  (`package_prices`, `public.package_terms_on`).
- `price_increase`: a new price for every subscriber of a package from a date, with notices.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["models", "sql"]
