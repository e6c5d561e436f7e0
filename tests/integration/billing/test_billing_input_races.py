"""Admin changes to a customer's billable inputs race the billing run's billing of that customer: they are
serialised on the run's per-customer lock, so a change lands before the facts are read or after the invoice
is written, never between. The run's transaction is held open on its own connection while the admin acts."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import psycopg
import pytest

from isp_billing.billing import run as billing_run
from isp_billing.errors import Conflict
from tests.billing_helpers import billed_customer, invoices_of, run_billing
from tests.events import call_api
from tests.factories import admin_with_token

BILLING_DATE = date(2026, 3, 5)


def _charge(conn, customer: str, amount: str = "999.00") -> str:
    row = conn.execute(
        """
        insert into customer_charges (customer_id, kind, description, amount, due_date)
        values (%s, 'installation', 'Installation', %s, '2026-03-01') returning id
        """,
        (customer, amount),
    ).fetchone()
    return str(row["id"])


def _in_thread(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def target() -> None:
        result["answer"] = work()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, result


def test_a_charge_cancelled_while_the_run_bills_the_customer_waits_and_is_refused_after(conn):
    # Given a customer with a pending R999 installation charge, and the run billing them (facts read, the
    # invoice not yet written; its transaction holds the customer's lock)
    _, token = admin_with_token(conn, role="billing_admin")
    customer, _ = billed_customer(conn, billing_day=5)
    charge = _charge(conn, customer)
    with conn.transaction():
        result = billing_run.compute(conn, BILLING_DATE, [customer], lock=True)
        assert any(line.charge_id is not None for line in result.invoices[0].lines)
        # When a billing admin cancels the charge meanwhile
        thread, answer = _in_thread(
            lambda: call_api(
                "AdminCustomerChargeCancelFunction",
                "POST",
                f"/api/admin/customers/{customer}/charges/{charge}/cancel",
                token=token,
            )
        )
        time.sleep(1.0)
        # Then the cancel waits for the run (it has not answered)
        assert thread.is_alive() and not answer
        billing_run.write(conn, result, BILLING_DATE)
    thread.join(20)
    # And once the invoice is written the cancel is refused (409: invoiced), the invoice and charge agree
    status, _, body = answer["answer"]
    assert status == 409, body
    row = conn.execute("select status, invoice_id from customer_charges where id = %s", (charge,)).fetchone()
    (invoice,) = invoices_of(conn, customer)
    assert row["status"] == "invoiced" and row["invoice_id"] == invoice["id"]


def test_a_charge_write_matching_fewer_rows_than_the_run_read_fails_the_write(conn):
    # Given the run's facts with a pending charge, and the charge cancelled behind the run's back (a writer
    # that did not take the customer's lock)
    customer, _ = billed_customer(conn, billing_day=5)
    charge = _charge(conn, customer)
    with conn.transaction():
        result = billing_run.compute(conn, BILLING_DATE, [customer], lock=False)
    conn.execute(
        "update customer_charges set status = 'cancelled', cancelled_at = now() where id = %s", (charge,)
    )
    # When the invoice is written / Then the write fails: nothing carries a charge that is not pending
    with pytest.raises(Conflict), conn.transaction():
        billing_run.write(conn, result, BILLING_DATE)
    assert invoices_of(conn, customer) == []


def test_the_credit_balance_the_run_reads_is_locked_until_it_commits(conn, admin_database_url):
    # Given a customer with R100 credit whose billing the run has read (its transaction still open)
    customer, _ = billed_customer(conn, billing_day=5, credit="100.00")
    with conn.transaction():
        billing_run.compute(conn, BILLING_DATE, [customer], lock=True)
        # When another transaction (a payment reversal) takes the credit meanwhile / Then it must wait
        with psycopg.connect(admin_database_url) as other, pytest.raises(psycopg.errors.LockNotAvailable):
            other.execute("set lock_timeout = '300ms'")
            other.execute(
                "update customer_billing set credit_balance = credit_balance - 100 where customer_id = %s",
                (customer,),
            )


def test_one_customers_conflict_fails_that_customer_not_the_chunk(conn):
    # Given two customers billed on the 5th in one chunk, one with a charge whose invoicing the database
    # refuses (a check the row no longer passes, as when it changed under the run)
    good, _ = billed_customer(conn, billing_day=5)
    bad, _ = billed_customer(conn, billing_day=5)
    charge = _charge(conn, bad)
    conn.execute(
        f"""
        create function pg_temp_refuse_charge() returns trigger language plpgsql as $$
        begin
          if new.id = '{charge}'::uuid and new.status = 'invoiced' then
            raise exception 'charge changed' using errcode = 'check_violation';
          end if;
          return new;
        end $$;
        create trigger refuse_charge before update on customer_charges
          for each row execute function pg_temp_refuse_charge();
        """
    )
    try:
        # When the run bills 5 March
        row = run_billing(BILLING_DATE)
    finally:
        conn.execute("drop trigger refuse_charge on customer_charges; drop function pg_temp_refuse_charge()")
    # Then the other customer is billed, the conflicting one is left, and the run is partial
    assert row["status"] == "partial" and (row["records_processed"], row["records_failed"]) == (1, 1), row
    assert len(invoices_of(conn, good)) == 1 and invoices_of(conn, bad) == []
    # When the next run comes (the conflict gone) / Then it bills the customer left, charge and all
    assert run_billing(BILLING_DATE)["status"] == "completed"
    (invoice,) = invoices_of(conn, bad)
    status = conn.execute("select status from customer_charges where id = %s", (charge,)).fetchone()["status"]
    assert status == "invoiced" and invoice["total_amount"] > 699
