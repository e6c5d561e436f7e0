"""A job's lease outlasts its function's timeout: a run that is still executing can never be taken over as
abandoned (the runner gives no heartbeat between steps; a lease shorter than the Lambda's Timeout would let a
second run start beside a live one). Both numbers are read from template.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from isp_billing.jobs.schedules import JOBS
from isp_billing.settings import Settings
from isp_billing_cli.template import load_template

TEMPLATE = load_template()
DEFAULT_LEASE = Settings.model_fields["job_lease_seconds"].default


def _lease_and_timeout(function: str) -> tuple[int, int]:
    globals_: dict[str, Any] = TEMPLATE["Globals"]["Function"]
    props = TEMPLATE["Resources"][function]["Properties"]
    variables = {
        **globals_.get("Environment", {}).get("Variables", {}),
        **(props.get("Environment") or {}).get("Variables", {}),
    }
    return int(variables.get("JOB_LEASE_SECONDS", DEFAULT_LEASE)), int(
        props.get("Timeout", globals_["Timeout"])
    )


@pytest.mark.parametrize("function", sorted({job.function for job in JOBS}))
def test_every_job_lease_outlasts_its_function_timeout(function: str) -> None:
    # Given the job's function in template.yaml / When its lease and Timeout are read
    lease, timeout = _lease_and_timeout(function)
    # Then the lease is longer than the function can run
    assert lease > timeout, f"{function}: lease {lease} s does not outlast its Timeout {timeout} s"


def test_the_billing_run_and_the_backfill_have_a_lease_for_their_900_seconds() -> None:
    # Given the two 900 s job functions / When read / Then their lease outlasts 900 s
    assert [_lease_and_timeout(f) for f in ("GenerateInvoicesFunction", "BackfillOrdersFunction")] == [
        (960, 900),
        (960, 900),
    ]
