"""Activation provisions the line: the Interstellio subscriber is created before the service goes live.

For a pending service without a subscriber whose package names an Interstellio service and profile:

1. the admin's transaction locks the service (a second activation waits, then finds it active: 409);
2. the intent (a `create_subscriber` row of service_provider_work, with the username the subscriber gets:
   `svc-<service id>@<realm>`) is committed on a connection of its own;
3. Interstellio is asked for that username first, and only when it has none is the subscriber created
   (POST /v1/subscriber, never retried blindly): a service is never provisioned twice, and an attempt whose
   answer was lost is found again instead of repeated;
4. created (or found): the subscriber's id is stored, the intent settled and the service activated in the
   same commit (the activate audit row carries the provider's outcome); the fixed term starts;
   uncertain (timeout, 5xx, unreadable answer, a username taken meanwhile): the service stays pending with
   provisioning_status `requested` (202) and retry-provider-sync finishes it; refused (4xx): the intent is
   settled `refused` on the side connection and nothing else changes (502).

A service that already has a subscriber, or whose package provisions nothing, is activated as before.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from isp_billing import side_connection
from isp_billing.auth import AdminPrincipal
from isp_billing.clock import sast_today
from isp_billing.db import Connection
from isp_billing.errors import InvalidState, NotFound, ProviderError, ValidationFailed
from isp_billing.lifecycle import actions as service_lifecycle
from isp_billing.lifecycle.models import ActivateRequest, ServiceActionResult
from isp_billing.lifecycle.provider import MAYBE_APPLIED_CODES, error_facts
from isp_billing.lifecycle.rules import require_permission
from isp_billing.observability import logger
from isp_billing.orders import sql as orders_sql
from isp_billing.orders import work_sql
from isp_billing.orders.models import ProvisioningPending
from isp_billing.providers.interstellio import SubscriberProvisioner
from isp_billing.settings import get_settings


class Uncertain(Exception):
    def __init__(self, facts: dict[str, Any]) -> None:
        super().__init__(facts.get("code"))
        self.facts = facts


def username_for(service_id: UUID) -> str:
    settings = get_settings()
    realm = settings.interstellio_username_realm or settings.interstellio_domain or "isp.local"
    return f"svc-{service_id}@{realm}"


def needs_provisioning(service: dict[str, Any]) -> bool:
    return (
        service["status"] == "pending"
        and not service["interstellio_subscriber_id"]
        and bool(service["interstellio_profile_id"])
        and bool(service["interstellio_service_id"])
    )


def activate(
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    request: ActivateRequest | None,
    request_id: str,
    provider: SubscriberProvisioner,
) -> ServiceActionResult | ProvisioningPending:
    request = request or ActivateRequest()
    require_permission(admin.role, "activate")
    today = sast_today()
    activation_date = request.activation_date or today
    if activation_date > today:
        raise ValidationFailed("activation_date: must not be in the future", field="activation_date")
    service = work_sql.lock_service(conn, service_id)
    if service is None:
        raise NotFound("No such service.")
    if not needs_provisioning(service):
        result = service_lifecycle.activate(conn, admin, service_id, request, request_id)
        orders_sql.start_term(conn, service_id)
        return result
    virtual_id = get_settings().interstellio_virtual_id
    if not virtual_id:
        raise InvalidState(
            "New lines cannot be provisioned: INTERSTELLIO_VIRTUAL_ID (the virtual server) is not set.",
            current_status=service["status"],
        )
    work = work_sql.open_creation(conn, service_id)
    if work is None:
        with side_connection.opened() as side, side_connection.service_transaction(side):
            work = work_sql.insert(
                side,
                service_id=service_id,
                customer_id=service["customer_id"],
                kind="create_subscriber",
                username=username_for(service_id),
                provider_service_id=service["interstellio_service_id"],
                profile_id=service["interstellio_profile_id"],
                package_id=service["package_id"],
                due_date=today,
                activation_date=activation_date,
                request_id=request_id,
                actor_admin_id=admin.audited_admin_id,
            )
    try:
        subscriber, how = create_or_find(provider, work, service, virtual_id)
    except Uncertain as uncertain:
        logger.warning(
            "subscriber creation uncertain; left for retry-provider-sync",
            extra={"service_id": str(service_id), "code": uncertain.facts.get("code")},
        )
        work_sql.record_attempt(conn, work["id"], str(uncertain.facts.get("code")))
        work_sql.set_provisioning(conn, service_id, "requested")
        return ProvisioningPending(
            service_id=service_id,
            status="pending",
            provisioning_status="requested",
            work_id=work["id"],
            provider=uncertain.facts,
        )
    except ProviderError as error:
        facts = error_facts(error)
        with side_connection.opened() as side, side_connection.service_transaction(side):
            work_sql.settle(side, work["id"], "refused", error=str(facts["code"]))
        raise ProviderError(
            "Interstellio refused to create the subscriber; the service stays pending.",
            current_status=service["status"],
            work_id=str(work["id"]),
            **facts,
        ) from None
    return finish(conn, admin, service_id, work, subscriber, how, request, request_id)


def finish(
    conn: Connection,
    admin: AdminPrincipal,
    service_id: UUID,
    work: dict[str, Any],
    subscriber: dict[str, Any],
    how: str,
    request: ActivateRequest,
    request_id: str,
) -> ServiceActionResult:
    """Store the subscriber's id, settle the intent, activate, start the fixed term: one commit."""
    subscriber_id = str(subscriber["id"])
    work_sql.settle(conn, work["id"], "applied", subscriber_id=subscriber_id)
    work_sql.set_provisioning(conn, service_id, "provisioned", subscriber_id)
    details = {
        "outcome": how,
        "subscriber_id": subscriber_id,
        "username": work["username"],
        "profile_id": work["profile_id"],
        "work_id": str(work["id"]),
    }
    result = service_lifecycle.activate(
        conn, admin, service_id, request, request_id, provider_details=details
    )
    orders_sql.start_term(conn, service_id)
    return result


def create_or_find(
    provider: SubscriberProvisioner, work: dict[str, Any], service: dict[str, Any], virtual_id: str
) -> tuple[dict[str, Any], str]:
    """The subscriber with the intent's username: found (an earlier attempt made it) or created now.
    Raises Uncertain when nobody can tell whether it exists, ProviderError when Interstellio refused."""
    username = work["username"]
    try:
        found = provider.find_subscriber(username)
        if found is not None:
            return found, "found"
        name = service["company_name"] or f"{service['first_name']} {service['last_name']}"
        created = provider.create_subscriber(
            username=username,
            name=f"{name} ({service['account_number']})"[:100],
            virtual_id=virtual_id,
            service_id=work["provider_service_id"],
            profile_id=work["profile_id"],
        )
        return created, "created"
    except ProviderError as error:
        facts = error_facts(error)
        if facts["code"] in MAYBE_APPLIED_CODES or facts["http_status"] == 409:
            raise Uncertain(facts) from None
        raise
