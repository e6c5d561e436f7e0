"""The PDF routes' HTTP answer (shared by the customer's and the admin's route)."""

from __future__ import annotations

from typing import Any

from fastapi import Response
from fastapi.responses import RedirectResponse

from isp_billing.invoices.delivery import PdfAnswer

PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The PDF itself, where the stage has no bucket (as in `make run`)",
        "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
    },
    302: {
        "description": "The stored PDF (rendered and stored now if it was not yet): Location is a presigned"
        " S3 URL valid for a few minutes"
    },
    404: {"description": "No such invoice for this caller (another customer's, a draft or a void one)"},
}


def pdf_response(answer: PdfAnswer) -> Response:
    if answer.redirect_url is not None:
        # The URL is a bearer credential for a few minutes: never cached by a browser or a proxy.
        return RedirectResponse(answer.redirect_url, status_code=302, headers={"Cache-Control": "no-store"})
    return Response(
        content=answer.content or b"",
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{answer.filename}"',
            "Cache-Control": "private, no-store",
        },
    )
