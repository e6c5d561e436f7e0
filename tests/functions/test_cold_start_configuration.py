"""A function whose configuration is missing fails its cold start, naming the variable."""

import os
import subprocess
import sys

import pytest

from isp_billing_cli.template import ROOT, functions

LOADER = (
    "import sys; from isp_billing_cli.template import function_by_id; "
    "function_by_id(sys.argv[1]).load_handler()"
)


@pytest.mark.parametrize("logical_id", ["CustomerServicesListFunction", "PurgeIdempotencyKeysFunction"])
def test_a_deployed_function_without_a_database_setting_stops_at_start(logical_id):
    # Given a prod stage with a JWT secret but no database setting
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "JWT_"))}
    env.update(STAGE="prod", JWT_SECRET="a-real-production-secret-0123456789")
    # When the function's module is loaded, as Lambda does at init
    result = subprocess.run(
        [sys.executable, "-c", LOADER, logical_id],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    # Then it fails, and the message names the missing variable
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_every_function_loads_with_a_complete_configuration():
    # Given a complete local configuration / When each function loads / Then none fails
    for function in functions():
        assert callable(function.load_handler())
