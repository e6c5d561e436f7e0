"""isp_billing: the shared layer of the ISP billing backend (settings, data access, services, providers)."""
