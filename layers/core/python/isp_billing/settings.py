"""Settings, read once from the environment and validated at start. Nothing else reads os.environ.

In AWS the secrets arrive as environment variables resolved from Secrets Manager/SSM by the template
(dynamic references) or by `*_SECRET_ARN` variables resolved here through Powertools Parameters.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from isp_billing.errors import ConfigurationError

PLACEHOLDERS = {"changeme", "change-me", "placeholder", "todo", "xxx", "secret"}
LOCAL_DEV_JWT_SECRET = "local-development-jwt-secret-not-for-production-use"  # noqa: S105


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    stage: Literal["local", "test", "dev", "staging", "prod"] = "local"
    database_url: SecretStr | None = None
    database_secret_arn: str | None = None
    # One Secrets Manager secret (JSON) holding JWT_SECRET, CRON_SECRET, provider keys and passwords.
    app_secrets_arn: str | None = None
    db_connect_timeout_seconds: int = Field(default=5, ge=1, le=60)
    # Every unit of work sets these for its own transaction (set_config(..., true)): pooler-safe.
    db_statement_timeout_ms: int = Field(default=25_000, ge=100)
    # Job work (inside jobs.run_job) scans and writes in bulk: a larger bound than a request's.
    db_batch_statement_timeout_ms: int = Field(default=240_000, ge=100)
    db_lock_timeout_ms: int = Field(default=10_000, ge=10)
    # A transaction left idle (a frozen Lambda, a stuck provider call) is ended by the server, locks freed.
    db_idle_in_transaction_timeout_ms: int = Field(default=60_000, ge=1_000)

    # Jobs: a run's lease on its `running` row (>= the job functions' Timeout, 300 s, so a live invocation
    # never loses it; longer work renews it), and the SQS fan-out of big runs into chunks.
    job_lease_seconds: int = Field(default=360, ge=1)
    job_chunk_size: int = Field(default=500, ge=1)
    job_chunk_queue_url: str | None = None
    # The chunk queue's RedrivePolicy maxReceiveCount: on that receive a failing chunk is marked failed.
    job_chunk_max_receives: int = Field(default=3, ge=1)

    jwt_secret: SecretStr | None = None
    jwt_jwks_url: str | None = None
    jwt_audience: str = "authenticated"
    jwt_issuer: str | None = None

    cron_secret: SecretStr | None = None

    netcash_base_url: str = "https://ws.netcash.co.za/NIWS"
    netcash_debit_order_service_key: SecretStr | None = None
    netcash_account_service_key: SecretStr | None = None
    netcash_software_vendor_key: str = "24ade73c-98cf-47b3-99be-cc7b867b3080"
    netcash_webhook_secret: SecretStr | None = None
    netcash_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    interstellio_base_url: str = "https://api.interstellio.io"
    interstellio_telemetry_url: str = "https://telemetry.interstellio.io"
    interstellio_domain: str | None = None
    interstellio_username: str | None = None
    interstellio_password: SecretStr | None = None
    interstellio_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # The virtual server new subscribers are created on (POST /v1/subscriber needs one) and the realm of
    # their usernames (`svc-<service id>@<realm>`; default: interstellio_domain).
    interstellio_virtual_id: str | None = None
    interstellio_username_realm: str | None = None

    # Set by Lambda and Powertools; read here so tracing is decided in one place.
    aws_lambda_function_name: str | None = None
    powertools_trace_disabled: bool = False
    powertools_metrics_disabled: bool = False

    # Browser origins allowed to call the API (the customer dashboard, the admin console), comma-separated.
    cors_allowed_origins: str = ""

    # The billing run: how many days of billing dates one run bills at most, from the first still to bill
    # (the next runs bill the rest, in order; customers per chunk: job_chunk_size).
    billing_catchup_days: int = Field(default=35, ge=1, le=62)
    # An activation date further back than this many days is refused unless a billing admin confirms it
    # (the next invoice bills every day from the activation date: a wrong old date would bill months).
    backdated_activation_max_days: int = Field(default=62, ge=0)
    # A preview without customer_id computes every due customer in one request: above this many it is
    # refused (422) so it stays well inside API Gateway's 29 s (1,000 customers take about a second).
    billing_preview_max_customers: int = Field(default=1000, ge=1)

    # The latest effective date a cancellation may name, in days from today (SAST): about three billing
    # periods. Ending service earlier than a cancellation's date is the end-now action.
    cancellation_max_days_ahead: int = Field(default=93, ge=0, le=3660)

    # A customer created through the admin API without a billing day starts its periods on this day (1-31).
    default_billing_day: int = Field(default=1, ge=1, le=31)

    # The catalogue: a price increase for a package's subscribers takes effect at least this many days after
    # the notice is sent (docs/adr/0136).
    price_change_notice_days: int = Field(default=30, ge=0, le=366)
    # Fixed-term contracts (docs/adr/0137): cancelling inside the term costs this percentage of the monthly
    # price for each whole or part month left, at most early_termination_max_months of them (CPA s14(3)(b),
    # regulation 5(2)-(3): a reasonable penalty that never negates the right to cancel).
    early_termination_percent: Decimal = Field(default=Decimal("50"), ge=0, le=75)
    early_termination_max_months: int = Field(default=12, ge=0, le=60)

    # Collections (issue 14): NetCash debit-order runs, statement reconciliation, overdue enforcement.
    # Lead times are business days between the upload day and the action date, per batch type.
    debit_order_instruction: Literal["TwoDay", "SameDay"] = "TwoDay"
    debit_order_two_day_lead_business_days: int = Field(default=3, ge=0, le=10)
    debit_order_same_day_lead_business_days: int = Field(default=0, ge=0, le=10)
    debit_order_window_days: int = Field(default=45, ge=1, le=366)
    # NetCash's per-item and daily debit limits on the profile (an invoice above the item limit, like one
    # above its mandate amount, is not debited; the daily limit defers the rest to the next run).
    debit_order_item_limit: Decimal = Field(default=Decimal("10000.00"), gt=0)
    debit_order_daily_limit: Decimal = Field(default=Decimal("1000000.00"), gt=0)
    debit_order_report_polls: int = Field(default=6, ge=1, le=60)
    debit_order_report_poll_seconds: float = Field(default=10.0, ge=0, le=60)
    overdue_grace_days: int = Field(default=14, ge=0, le=90)
    # Statement days one reconciliation run reads at most (a run that is further behind reads the rest in
    # the next runs, oldest first: no day is ever skipped), and the business days after its action date a
    # collection may stay `submitted` without a statement line before it is a validation error.
    reconcile_max_days_per_run: int = Field(default=62, ge=1, le=366)
    debit_order_unanswered_business_days: int = Field(default=10, ge=1, le=60)

    # --- Invoice delivery (issue 12): the tax-invoice PDF, its bucket and queue, and the e-mail outbox ----
    # The supplier printed on every tax invoice (VAT Act s20); address lines separated by "|".
    supplier_name: str = "Example Fibre (Pty) Ltd"
    supplier_address: str = "1 Example Street|Rosebank|Johannesburg|2196"
    supplier_vat_number: str = "4000000000"
    supplier_bank_name: str = "Example Bank"
    supplier_bank_account_name: str = "Example Fibre (Pty) Ltd"
    supplier_bank_account_number: str = "0000000000"
    supplier_bank_branch_code: str = "000000"
    # No bucket (as in `make run`): the PDF route renders and answers the bytes itself.
    invoice_pdf_bucket: str | None = None
    invoice_pdf_queue_url: str | None = None
    invoice_pdf_url_seconds: int = Field(default=300, ge=10, le=3600)
    # The sweep renders invoices issued longer ago than this with no PDF (a lost enqueue, a DLQ'd render).
    invoice_pdf_sweep_after_minutes: int = Field(default=15, ge=1)
    invoice_pdf_sweep_batch: int = Field(default=200, ge=1, le=5000)
    # Where links in e-mails point (the customer dashboard's API origin).
    public_api_base_url: str = "http://127.0.0.1:3000"
    # E-mail: "ses" sends through Amazon SES v2; "outbox" writes .eml files into notifications_outbox_dir.
    email_delivery: Literal["ses", "outbox"] = "outbox"
    email_from_address: str = "billing@example.co.za"
    ses_configuration_set: str | None = None
    notifications_outbox_dir: str | None = None  # default: <ISP_BILLING_DATA_DIR>/outbox
    notification_batch_size: int = Field(default=100, ge=1, le=1000)
    notification_max_attempts: int = Field(default=6, ge=1, le=50)
    notification_backoff_seconds: int = Field(default=60, ge=1)
    # A claimed row whose sender died is claimable again after this (longer than one send takes).
    notification_lease_seconds: int = Field(default=300, ge=10)
    # Claims of one row whose sender stopped before recording an outcome (no attempt counted) before the
    # row is given up: the bound against a message that crashes its sender every time.
    notification_max_unfinished_claims: int = Field(default=3, ge=1, le=50)

    # Usage (issue 13): how many SAST days the daily sync re-reads (yesterday's bucket still grows), services
    # per fan-out chunk (one Interstellio call each), and the secrets of the two usage webhooks.
    usage_sync_days: int = Field(default=3, ge=1, le=31)
    usage_sync_chunk_size: int = Field(default=200, ge=1)
    # A chunk stops calling Interstellio after this long (below the function's Timeout): the rest fail.
    usage_sync_chunk_budget_seconds: float = Field(default=200.0, gt=0)
    usage_webhook_secret: SecretStr | None = None
    usage_webhook_tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    interstellio_webhook_token: SecretStr | None = None

    log_level: str = "INFO"
    data_dir: str = Field(default=".isp-billing", validation_alias="ISP_BILLING_DATA_DIR")

    @field_validator(
        "database_url",
        "database_secret_arn",
        "app_secrets_arn",
        "job_chunk_queue_url",
        "jwt_secret",
        "jwt_jwks_url",
        "jwt_issuer",
        "cron_secret",
        "interstellio_domain",
        "interstellio_username",
        "interstellio_password",
        "netcash_debit_order_service_key",
        "netcash_account_service_key",
        "netcash_webhook_secret",
        "invoice_pdf_bucket",
        "invoice_pdf_queue_url",
        "ses_configuration_set",
        "notifications_outbox_dir",
        "usage_webhook_secret",
        "interstellio_webhook_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # CloudFormation parameters cannot be absent, only empty: treat "" as not set.
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "jwt_secret",
        "cron_secret",
        "netcash_webhook_secret",
        "interstellio_password",
        "usage_webhook_secret",
        "interstellio_webhook_token",
    )
    @classmethod
    def _not_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDERS:
            raise ValueError("is a placeholder value; set a real secret")
        return value

    @property
    def cors_origins(self) -> frozenset[str]:
        return frozenset(
            origin.strip().rstrip("/") for origin in self.cors_allowed_origins.split(",") if origin.strip()
        )

    @model_validator(mode="after")
    def _deployed_needs_real_config(self) -> Settings:
        if self.stage in {"dev", "staging", "prod"}:
            if self.database_url is None and self.database_secret_arn is None:
                raise ValueError("DATABASE_URL or DATABASE_SECRET_ARN is required outside local/test")
            if self.jwt_secret is None and self.jwt_jwks_url is None:
                raise ValueError("JWT_SECRET or JWT_JWKS_URL is required outside local/test")
            if self.jwt_secret is not None and self.jwt_secret.get_secret_value() == LOCAL_DEV_JWT_SECRET:
                raise ValueError("JWT_SECRET is the local development secret; set a real one")
        return self


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        name = ".".join(str(p) for p in item["loc"]).upper() or "settings"
        parts.append(f"{name}: {item['msg']}")
    return "; ".join(parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; raises ConfigurationError naming the variable when one is missing or bad."""
    try:
        settings = Settings()
        if settings.app_secrets_arn:
            # Secret values override the environment; they never appear in the template or the console.
            settings = Settings(**_app_secrets(settings.app_secrets_arn))  # type: ignore[arg-type]
        return settings
    except ValidationError as error:
        raise ConfigurationError(f"invalid configuration: {_describe(error)}") from None


def _app_secrets(secret_arn: str) -> dict[str, str]:
    from aws_lambda_powertools.utilities import parameters  # boto3 is only needed where secrets live in AWS

    values = parameters.get_secret(secret_arn, transform="json", max_age=300)
    if not isinstance(values, dict):
        raise ConfigurationError("invalid configuration: APP_SECRETS_ARN: the secret is not a JSON object")
    return {str(key).lower(): str(value) for key, value in values.items()}


def reset_settings_cache() -> None:
    """Tests and the local runner change the environment; let them re-read it."""
    get_settings.cache_clear()
