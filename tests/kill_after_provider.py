"""Run one API request in this process and SIGKILL the process the moment the provider has answered.

    python -m tests.kill_after_provider <interstellio|netcash> <FunctionId> <METHOD> <path> <token> <body>
    python -m tests.kill_after_provider netcash_debit_orders <FunctionId> <options JSON>   (a job, invoked)
    python -m tests.kill_after_provider netcash_debit_orders_authorise <FunctionId> <options JSON>

The environment (DATABASE_URL, provider URLs, JWT secret) comes from the parent test. The real provider
client is wrapped: its call goes through to the fake provider and succeeds, then the process is killed
before the code after the call runs, exactly like a Lambda dying between the provider's answer and the
commit. The parent asserts the process died by SIGKILL, then runs the reconciling job.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

from isp_billing.providers.interstellio import InterstellioClient
from isp_billing.providers.netcash import NetcashClient
from isp_billing.providers.netcash_debit_orders import DebitOrderClient
from isp_billing_cli.events import LambdaContext
from isp_billing_cli.template import function_by_id
from tests.events import call_api

WRAPPED = {
    "interstellio": (InterstellioClient, "set_subscriber_enabled"),
    "netcash": (NetcashClient, "add_mandate"),
    "netcash_debit_orders": (DebitOrderClient, "upload_batch"),
    "netcash_debit_orders_authorise": (DebitOrderClient, "authorise_batch"),
}


def _killing(method: Any) -> Any:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        method(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    return call


def main(argv: list[str]) -> None:
    if argv[0].startswith("netcash_debit_orders"):
        provider, function_id, options = argv
        owner, name = WRAPPED[provider]
        setattr(owner, name, _killing(getattr(owner, name)))
        function_by_id(function_id).load_handler()(json.loads(options), LambdaContext(function_id))
        sys.exit("the provider call returned without being killed")  # pragma: no cover
    provider, function_id, method, path, token, body = argv
    owner, name = WRAPPED[provider]
    setattr(owner, name, _killing(getattr(owner, name)))
    call_api(function_id, method, path, token=token, body=json.loads(body))
    sys.exit("the provider call returned without being killed")  # pragma: no cover


if __name__ == "__main__":
    main(sys.argv[1:])
