"""Payment methods: NetCash debit-order mandates, card tokens and EFT.

- `methods` (`sql`, `models`): add, change, remove, set primary; `mandate_requests`: the eMandate request
  with its intent committed first; `mandate_status`: the mandate file sync and expiry jobs;
  `netcash_mandates`: NetCash's mandate postback.
"""

# The modules other capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["sql"]
