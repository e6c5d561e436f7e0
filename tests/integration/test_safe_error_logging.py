"""Unexpected failures are logged by class, SQLSTATE and constraint, never with the error's text."""

from __future__ import annotations

import json

import psycopg
import pytest

from isp_billing.observability import log_failure, logger


def test_a_unique_violation_is_logged_without_the_values_in_its_detail(conn, caplog) -> None:
    # Given a real unique violation whose DETAIL line carries an email address
    conn.execute("create temp table people (email text unique)")
    conn.execute("insert into people values ('thandi@example.co.za')")
    with pytest.raises(psycopg.errors.UniqueViolation) as caught:
        conn.execute("insert into people values ('thandi@example.co.za')")
    assert "thandi@example.co.za" in str(caught.value)  # the raw text does carry it

    # When it is logged as an unexpected failure
    caplog.clear()
    log_failure("unhandled error", caught.value, job_name="demo")

    # Then the log line names the class, SQLSTATE and constraint, and holds no value and no traceback
    record = caplog.records[-1]
    line = json.loads(logger.registered_formatter.format(record))
    assert line["message"] == "unhandled error"
    assert line["error_type"] == "UniqueViolation"
    assert line["sqlstate"] == "23505"
    assert line["constraint_name"] == "people_email_key"
    assert line["job_name"] == "demo"
    assert "thandi" not in json.dumps(line)
    assert "exception" not in line
