"""The layer builds for Lambda (arm64, Python 3.12) the way `sam build` builds it: layers/core/Makefile."""

import subprocess
import tempfile
from pathlib import Path

from isp_billing_cli.template import ROOT

LAMBDA_UNZIPPED_LIMIT_MB = 250


def test_the_layer_builds_with_arm64_wheels_for_every_pinned_dependency():
    # Given an empty artifacts folder, as sam build gives the makefile
    with tempfile.TemporaryDirectory(prefix="ispb-layer-") as artifacts:
        # When the layer's build target runs
        result = subprocess.run(
            ["make", "-s", "-C", str(ROOT / "layers/core"), "build-CoreLayer", f"ARTIFACTS_DIR={artifacts}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        python = Path(artifacts) / "python"
        # Then the package and its compiled dependencies are there, built for aarch64 / CPython 3.12
        assert (python / "isp_billing" / "web.py").is_file()
        compiled = list(python.glob("pydantic_core/*.so")) + list(python.glob("psycopg_binary/*.so"))
        assert compiled and all("cpython-312-aarch64" in path.name for path in compiled), compiled
        assert not list(python.rglob("__pycache__"))
        # And it fits Lambda's unzipped size limit
        size_mb = sum(path.stat().st_size for path in python.rglob("*") if path.is_file()) / 1_000_000
        assert size_mb < LAMBDA_UNZIPPED_LIMIT_MB
