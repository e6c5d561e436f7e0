"""Process settings for a block of test code: set environment variables, re-read settings, restore both."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from isp_billing.settings import reset_settings_cache


@contextmanager
def settings_environment(values: dict[str, str]) -> Iterator[None]:
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    reset_settings_cache()
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings_cache()
