"""What the Data API (PostgREST on Supabase) may reach in schema `public`: the explicit allow-list.

Every table and every function in `public` must be classified here. A table or function added later (by
any branch) fails tests/integration/test_data_api_privileges.py until someone decides, here, whether a
customer's JWT may reach it; docs/adr/0025-data-api-exposure.md gives the reasons per column.

- `authenticated` (a customer's JWT) gets column-level SELECT on the customer-facing columns only, so a
  column added later stays hidden until granted; it writes nothing and calls no function.
- `anon` (no JWT) and PUBLIC get nothing at all.
- `api_customer` (the API's own customer sessions; PostgREST never switches to it) reads the customer-facing
  tables whole and writes payment methods under the guard trigger; it calls only the idempotency functions.
"""

from __future__ import annotations


def _columns(names: str) -> frozenset[str]:
    return frozenset(names.split())


# table -> the columns a customer's JWT may SELECT (rows are limited by VISIBLE_ROWS).
CUSTOMER_FACING: dict[str, frozenset[str]] = {
    "customers": _columns(
        """
        id auth_user_id account_number first_name last_name email phone customer_type company_name
        vat_number physical_address postal_address created_at updated_at
        """
    ),
    "customer_billing": _columns(
        """
        id customer_id billing_day payment_terms_days invoice_email auto_pay debit_day credit_balance
        created_at updated_at
        """
    ),
    "customer_services": _columns(
        """
        id customer_id package_id package_name service_type status monthly_price activation_date
        suspension_date cancellation_date cancellation_effective_date installation_address created_at
        updated_at
        """
    ),
    "service_suspensions": _columns(
        """
        id service_id customer_id suspension_type pauses_billing suspended_at planned_end reactivated_at
        created_at updated_at
        """
    ),
    "customer_invoices": _columns(
        """
        id customer_id invoice_number kind invoice_date due_date period_start period_end subtotal
        vat_rate vat_amount total_amount amount_paid amount_due status paid_at pdf_url pdf_generated_at
        credit_note_for created_at updated_at amount_credited usage_totals account_credit_applied
        """
    ),
    "invoice_line_items": _columns(
        """
        id invoice_id service_id kind description quantity unit_amount amount period_start period_end
        created_at updated_at
        """
    ),
    "customer_payment_methods": _columns(
        """
        id customer_id method_type display_name is_primary is_active deactivated_at bank_name
        account_type account_number_masked account_holder mandate_status mandate_amount
        mandate_signed_at mandate_url card_brand card_last4 card_expiry_month card_expiry_year
        created_at updated_at
        """
    ),
    "payment_transactions": _columns(
        """
        id customer_id invoice_id payment_method_id original_transaction_id amount kind status provider
        action_date failure_code failure_reason processed_at created_at updated_at
        """
    ),
    "usage_history": _columns(
        """
        id customer_id service_id usage_date upload_mb download_mb total_mb source created_at updated_at
        """
    ),
    "service_packages": _columns(
        """
        id name service_type speed_down_mbps speed_up_mbps monthly_price data_cap_gb is_active
        created_at updated_at out_of_bundle_price_per_gb
        """
    ),
    "vat_rates": _columns(
        """
        id rate effective_from created_at
        """
    ),
    "declared_public_holidays": _columns(
        """
        id holiday_date name created_at
        """
    ),
}

# Which rows of a customer-facing table the customer `%(me)s` sees, as SQL the test's superuser runs.
VISIBLE_ROWS: dict[str, str] = {
    "customers": "id = %(me)s",
    "customer_billing": "customer_id = %(me)s",
    "customer_services": "customer_id = %(me)s",
    "service_suspensions": "customer_id = %(me)s and suspension_type <> 'fraud'",
    "customer_invoices": "customer_id = %(me)s and status not in ('draft', 'void')",
    "invoice_line_items": "invoice_id in (select id from customer_invoices"
    " where customer_id = %(me)s and status not in ('draft', 'void'))",
    "customer_payment_methods": "customer_id = %(me)s",
    "payment_transactions": "customer_id = %(me)s",
    "usage_history": "customer_id = %(me)s",
    "service_packages": "is_active",
    "vat_rates": "true",
    "declared_public_holidays": "true",
}

# Tables no customer reaches through the Data API: internal, admin-only, provider or job state.
INTERNAL_TABLES: frozenset[str] = frozenset(
    {
        "admin_users",
        "billing_cycles",
        "consumer_orders",
        "cron_execution_log",
        "cron_job_chunks",
        "customer_audit_log",
        "customer_charges",
        "debit_order_batches",
        "idempotency_keys",
        "invoice_action_log",
        "ledger_entries",
        "mandate_collection_blocks",
        "migration_review_queue",
        "netcash_statement_days",
        "netcash_statement_lines",
        "notifications",
        "number_counters",
        "package_prices",
        "schema_migrations",
        "service_action_log",
        "service_change_requests",
        "service_provider_intents",
        "service_provider_work",
        "unpaid_reason_codes",
        "usage_meter_events",
        "validation_errors",
        "webhook_deliveries",
    }
)

# Table privileges of the API's own customer role (PostgREST cannot switch to it).
API_CUSTOMER_TABLE_PRIVILEGES: dict[str, frozenset[str]] = {
    table: frozenset({"SELECT"}) for table in CUSTOMER_FACING
} | {
    "customer_payment_methods": frozenset({"SELECT", "INSERT", "UPDATE"}),
    # The customer's own profile change is audited by the customer's session (a policy limits it to their
    # own account, as the customer, action profile_change).
    "customer_audit_log": frozenset({"INSERT"}),
    # a customer's package change requests: read and created through the API only (RLS: their own)
    "service_change_requests": frozenset({"SELECT", "INSERT"}),
}

# Column privileges of the API's own customer role: the profile fields a customer may change themselves.
API_CUSTOMER_COLUMN_PRIVILEGES: dict[str, frozenset[tuple[str, str]]] = {
    "customers": frozenset(
        {("UPDATE", "phone"), ("UPDATE", "physical_address"), ("UPDATE", "postal_address")}
    ),
    "customer_billing": frozenset({("UPDATE", "invoice_email")}),
}

# Every function in public (by name) -> the roles among anon/authenticated/api_customer/PUBLIC that may
# EXECUTE it. Trigger functions and service-role helpers: nobody of those.
FUNCTIONS: dict[str, frozenset[str]] = {
    name: frozenset()
    for name in (
        "apply_package_terms",
        "assign_customer_account_number",
        "assign_invoice_number",
        "create_customer_billing",
        "create_customer_billing_for_statement",
        "create_first_package_price",
        "customer_services_restrict_usage",
        "debit_date_on_or_after",
        "derive_suspension_pauses_billing",
        "format_document_number",
        "guard_customer_payment_method_write",
        "legacy_order_action",
        "ledger_invoice_figures",
        "ledger_migrate_existing",
        "ledger_refresh",
        "ledger_source_balances",
        "next_number",
        "normalize_email",
        "package_terms_on",
        "protect_issued_invoice",
        "protect_issued_invoice_lines",
        "protect_issued_invoice_lines_insert",
        "protect_issued_invoice_lines_statement",
        "payment_transactions_customer_exists",
        "protect_payment_transaction",
        "refuse_append_only_change",
        "refuse_delete_of_invoiced_service",
        "refuse_delete_of_paying_customer",
        "refuse_truncate",
        "reserve_numbers",
        "unknown_auth_user_ids",
        "set_updated_at",
        "time_ordered_uuid",
        "usage_history_check_services",
    )
} | {
    "claim_idempotency_key": frozenset({"api_customer"}),
    "complete_idempotency_key": frozenset({"api_customer"}),
    # Evaluated by the customers' normalised-phone index when a customer changes their own phone.
    "normalize_za_phone": frozenset({"api_customer"}),
}

# The roles whose reach the allow-list describes (PUBLIC: what every role gets, anon and authenticated too).
CHECKED_ROLES = ("anon", "authenticated", "api_customer", "PUBLIC")
