"""Selling a service: orders, provisioning the line at Interstellio, package changes, fixed-term contracts.

- `orders` (`sql`, `models`): a pending service and its once-off charges in one transaction.
- `provisioning` (`work_sql`): activation creates the Interstellio subscriber (intent committed first);
  `provider_work`: what retry-provider-sync finishes (an uncertain creation, a due profile switch).
- `package_changes`: an admin's package change (price through the change-price rule, profile switched on the
  effective date) and the customer's change requests.
- `contracts`: fixed terms, the early-termination charge on cancellation, the CPA s14 end-of-term notices.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = []
