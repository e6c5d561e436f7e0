"""The one Powertools Logger/Tracer/Metrics trio. Import these; never create a second instance.

Personal data (names, emails, phones, addresses, account numbers) and secrets are never logged: log ids.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE_NAME = "isp-billing"
METRICS_NAMESPACE = "IspBilling"

logger = Logger(service=SERVICE_NAME)
tracer = Tracer(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
