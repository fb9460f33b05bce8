"""The public JSON API, mounted at ``/api/v1/`` (django-ninja).

Schema: ``/api/v1/openapi.json``; reference page: ``/api/v1/docs``.

Interface for endpoint modules (stable; other apps build on it)::

    from ninja import Router
    from launchready.api import ApiError, require_write, scoped, site_for, token_auth

    router = Router(tags=["Deploys"], auth=token_auth)

    @router.post("/deploys", response={201: DeployOut})
    def deploy_create(request, payload: DeployIn):
        require_write(request)                  # 403 for a read-only token
        site = site_for(request, payload.site)  # 404 outside the token's scope
        ...
        raise ApiError(409, "A deploy of this version is already running.")

- ``api`` is the :class:`ninja.NinjaAPI` instance. Do not call ``api.add_router``
  yourself: an installed app's modules named ``api_*.py`` (``handover/api_env.py``,
  ``handover/api_deploys.py``) that define ``router`` are discovered and added with
  prefix ``""`` by :mod:`launchready.api.urls`, so write full paths such as
  ``"/env-check"``. Use UUIDs in paths, named after the model (``{deploy}``): the
  tenancy walk in tests/api fills them with another workspace's objects.
- ``token_auth``: pass as ``auth=``; ``request.auth`` is then the
  ``monitoring.models.ApiToken`` (``workspace``, ``site`` or None, ``read_only``).
  It answers 401 for a missing or unknown token and 429 (with ``Retry-After``)
  past ``API_RATE_LIMIT_PER_MINUTE`` requests per token.
- ``site_for(request, site_uuid) -> Site``: the site if the token's scope
  includes it, else a 404. ``sites_of(request)`` is the queryset of visible sites;
  ``scoped(request, queryset, site_field=…, workspace_field=…)`` cuts any queryset
  to the token's workspace and site; ``get_or_404(queryset, **lookup)``.
- ``require_write(request)``: 403 for a read-only token.
  ``require_workspace_token(request)``: 403 for a site token (writes that reach
  beyond one site).
- ``ApiError(status, message, headers=None)`` becomes ``{"error": message}`` with
  that status. Pydantic validation errors become a 400 with one sentence; bad or
  absurdly nested JSON a 400; unknown paths a JSON 404; wrong methods a JSON 405.
"""

from ninja import NinjaAPI

from . import errors
from .auth import (
    get_or_404,  # launchready.selectors' own: Http404 answers with the API's sentence
    require_workspace_token,
    require_write,
    scoped,
    site_for,
    sites_of,
    token_auth,
    token_of,
)
from .errors import ApiError
from .schemas import ErrorOut

# Every operation can answer these; the schema says so once for all of them.
ERROR_RESPONSES = {
    "400": "Bad input: not JSON, nested too deeply, or a field that is not valid.",
    "401": "No token, or a token that does not exist (any more).",
    "404": "Nothing with this id is visible to this token (another workspace's or site's).",
    "429": "Too many requests with this token this minute; see Retry-After.",
}
WRITE_ERROR_RESPONSES = {"403": "The token is read-only, or limited to a site this change reaches beyond."}


class LaunchReadyAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__  # "site_list", not "launchready_api_sites_site_list"

    def get_openapi_schema(self, **kwargs):
        schema = super().get_openapi_schema(**kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ErrorOut.model_json_schema()
        error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        for path_item in schema["paths"].values():
            for method, operation in path_item.items():
                codes = ERROR_RESPONSES | (WRITE_ERROR_RESPONSES if method != "get" else {})
                for status, description in codes.items():
                    operation["responses"].setdefault(status, {"description": description, **error})
        return schema


api = LaunchReadyAPI(
    title="Launch Ready API",
    version="1",
    description=(
        "Sites, monitors, incidents, heartbeats, maintenance windows, audit runs and deploys "
        "of one workspace. Send a token as `Authorization: Bearer lr_…` (an admin creates "
        'one on the Monitoring → Maintenance page). Errors are `{"error": "sentence"}`.'
    ),
    urls_namespace="api",
    parser=errors.JsonParser(),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

__all__ = [
    "ApiError",
    "api",
    "get_or_404",
    "require_workspace_token",
    "require_write",
    "scoped",
    "site_for",
    "sites_of",
    "token_auth",
    "token_of",
]
