"""The providers' clients and file formats: NetCash (SOAP, batch files, mandates) and Interstellio (REST).
`registry` builds one client per environment (the real one, or the local fakes)."""

# The modules the capabilities may import (tests/infra/test_layout.py holds every import to this list).
__all__: list[str] = ["interstellio", "netcash", "netcash_debit_orders", "registry"]
