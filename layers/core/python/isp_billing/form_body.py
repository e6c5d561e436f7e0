"""Form-encoded request bodies (provider postbacks) as a dependency, without python-multipart."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Depends, Request

from isp_billing.errors import ValidationFailed

MAX_FORM_BYTES = 64 * 1024


async def _form_fields(request: Request) -> dict[str, str]:
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        raise ValidationFailed("The form body is too large.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The form body is not UTF-8.") from None
    # Last value wins for a repeated field, as in most form readers.
    return dict(parse_qsl(text, keep_blank_values=True))


FormFields = Annotated[dict[str, str], Depends(_form_fields)]
