"""What can go wrong in a use case, as exceptions that carry data.

    OmsError                      status, code, detail
    ├── InvalidInput              422: the fields at fault, each with its message
    ├── NotFound                  404: which resource, which key
    ├── Conflict                  409: an illegal transition or a duplicate
    ├── Gone                      410: a cursor older than what is kept
    ├── Forbidden                 403: outside the caller's role or scope
    └── Unauthorized              401: no key, or a key we do not know

The API turns them into problem+json (api/errors.py); the CLI prints them. Services raise them
before writing anything, so a refused request never leaves a partial write.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str
    code: str = "invalid"


class OmsError(Exception):
    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(OmsError):
    status = 422
    code = "invalid_input"
    title = "The request has invalid fields"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        super().__init__(detail or "; ".join(f"{e.field}: {e.message}" for e in errors[:5]))
        self.errors = errors


class NotFound(OmsError):
    status = 404
    code = "not_found"
    title = "Not found"

    def __init__(self, resource: str, key: str) -> None:
        super().__init__(f"{resource} {key!r} does not exist")
        self.resource = resource
        self.key = key


class Conflict(OmsError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Gone(OmsError):
    status = 410
    code = "cursor_expired"
    title = "Gone"


class Forbidden(OmsError):
    status = 403
    code = "forbidden"
    title = "Forbidden"

    def __init__(self, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class Unauthorized(OmsError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"
