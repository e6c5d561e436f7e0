"""E-mail bodies for the notifications outbox, one module per template: `notification_templates/<name>.py`
defines `render(data) -> Email`. The row's `template` column names the module; its `data` is what the
module reads (money as strings, dates as ISO text), so a row queued today renders the same way tomorrow.

A module per template keeps each capability's wording next to nothing else's (invoices, usage caps,
collections add theirs without touching a shared registry).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,49}$")


@dataclass(frozen=True)
class Email:
    text: str
    html: str | None = None


class _TemplateModule(Protocol):
    def render(self, data: Mapping[str, Any]) -> Email: ...


class UnknownTemplate(LookupError):
    pass


def render(template: str, data: Mapping[str, Any]) -> Email:
    """The body of `template` for `data`; UnknownTemplate when no module of that name exists."""
    if not _NAME.match(template):
        raise UnknownTemplate(template)
    try:
        module: _TemplateModule = importlib.import_module(f"{__name__}.{template}")  # type: ignore[assignment]
    except ModuleNotFoundError as missing:
        raise UnknownTemplate(template) from missing
    return module.render(data)
