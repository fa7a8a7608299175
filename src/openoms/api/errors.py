"""Every error leaves as application/problem+json (RFC 9457) with a stable `code`.

Request validation names the field (`rows[3].on_hand`); malformed JSON is a 400; nothing
answers 500 except a bug, and even that answers problem+json.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openoms.errors import FieldError, Forbidden, InvalidInput, OmsError

PROBLEM = "application/problem+json"
log = logging.getLogger("openoms.api")


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: list[FieldError] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"https://openoms.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message, "code": e.code} for e in errors]
    return JSONResponse(body, status_code=status, media_type=PROBLEM)


def field_path(loc: tuple[Any, ...]) -> str:
    """('body', 'rows', 3, 'on_hand') -> 'rows[3].on_hand'."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or str(loc[0] if loc else "body")


def install(app: FastAPI) -> None:
    @app.exception_handler(OmsError)
    async def oms_error(request: Request, error: OmsError) -> JSONResponse:
        errors = error.errors if isinstance(error, InvalidInput) else None
        if isinstance(error, Forbidden) and error.field:
            errors = [FieldError(error.field, error.detail, "out_of_scope")]
        return problem(
            error.status,
            error.code,
            error.title,
            error.detail,
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        details = error.errors()
        if any(d.get("type") == "json_invalid" for d in details):
            message = next(d.get("msg", "") for d in details if d.get("type") == "json_invalid")
            return problem(
                400,
                "malformed_json",
                "The body is not valid JSON",
                str(message),
                instance=request.url.path,
                errors=[FieldError("body", str(message), "malformed_json")],
            )
        errors = [
            FieldError(field_path(tuple(d.get("loc", ()))), str(d.get("msg", "")), str(d["type"]))
            for d in details[:50]
        ]
        return problem(
            422,
            "invalid_input",
            "The request has invalid fields",
            "; ".join(f"{e.field}: {e.message}" for e in errors[:5]),
            instance=request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return problem(
            error.status_code,
            code,
            str(error.detail),
            str(error.detail),
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path, exc_info=error)
        return problem(500, "internal_error", "Internal error", "an unexpected error was logged")
