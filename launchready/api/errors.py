"""Every API error is ``{"error": "<one sentence>"}`` with its status, never HTML or a traceback.

Endpoints raise :class:`ApiError`; ninja's own exceptions (bad token, pydantic
validation, ``Http404``) and anything unexpected are turned into the same shape by
the handlers that :func:`install` registers on the API.
"""

from __future__ import annotations

import json
import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

logger = logging.getLogger(__name__)

NOT_FOUND = "Nothing with this id is visible to this token."


class ApiError(Exception):
    """An answer with ``status`` and ``{"error": message}``; ``headers`` are added to it."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def json_body(request: HttpRequest):
    """The request's JSON; ``ApiError(400)`` with a sentence for anything else.

    An empty body reads as ``{}``; nesting deep enough to exhaust the parser's
    recursion is refused instead of becoming a 500.
    """
    try:
        return json.loads(request.body or b"{}")
    except RecursionError:
        raise ApiError(400, "The JSON body is nested too deeply.") from None
    except ValueError:
        raise ApiError(400, "The body is not JSON.") from None


class JsonParser(Parser):
    """ninja's body parser with our 400 sentences instead of a 500 on bad or deep JSON."""

    def parse_body(self, request: HttpRequest):
        return json_body(request)


def _field(loc) -> str:
    # ninja locations look like ("body", "payload", "minutes") or ("query", "open").
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload")]
    return ".".join(parts)


def validation_sentence(errors: list[dict]) -> str:
    """One readable sentence for pydantic's list of errors (the first one is enough to act on)."""
    if not errors:
        return "The request is not valid."
    first = errors[0]
    where = _field(first.get("loc", ()))
    message = str(first.get("msg", "is not valid")).rstrip(".")
    # A field_validator's ValueError arrives as "Value error, <our sentence>".
    message = message.removeprefix("Value error, ")
    # pydantic's messages start with a capital ("Input should be …"); read as "“x”: input should be …".
    message = message[:1].lower() + message[1:]
    sentence = f"“{where}”: {message}." if where else f"The request is not valid: {message}."
    more = len(errors) - 1
    return sentence + (f" ({more} more problem{'s' if more > 1 else ''}.)" if more else "")


def install(api: NinjaAPI) -> None:
    """Register the handlers that give every failure the ``{"error": …}`` shape."""

    @api.exception_handler(ApiError)
    def _api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
        return error_response(exc.status, exc.message, exc.headers)

    @api.exception_handler(AuthenticationError)
    def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return error_response(401, "Send an API token as “Authorization: Bearer lr_…”.")

    @api.exception_handler(ValidationError)
    def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return error_response(400, validation_sentence(exc.errors))

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # ninja wraps our parser's ApiError ("The body is not JSON.") in its own
        # "Cannot parse request body": answer with our sentence.
        if isinstance(exc.__cause__, ApiError):
            return _api_error(request, exc.__cause__)
        return error_response(exc.status_code, str(exc))

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return error_response(404, NOT_FOUND)

    @api.exception_handler(PermissionDenied)
    def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return error_response(403, str(exc) or "This token cannot do that.")

    @api.exception_handler(Exception)
    def _crash(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("API error on %s %s", request.method, request.path)
        return error_response(500, "Something went wrong on our side; it has been logged.")
