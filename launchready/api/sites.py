"""``/sites``: the sites a token can see."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema

from launchready.models import Site

from . import lists
from .auth import site_for, sites_of, token_auth

router = Router(tags=["Sites"], auth=token_auth)


class SiteOut(Schema):
    id: UUID
    domain: str
    name: str
    canonical_host: str
    created_at: datetime

    @staticmethod
    def resolve_id(site: Site) -> UUID:
        return site.uuid


@router.get("/sites", response=list[SiteOut], summary="List sites")
def site_list(request: HttpRequest):
    """Every site of the token's workspace (one site for a site token), by domain."""
    return lists.answer(request, "sites", SiteOut, (), lambda: (list(sites_of(request)), None))


@router.get("/sites/{site}", response=SiteOut, summary="Get a site")
def site_detail(request: HttpRequest, site: UUID):
    return site_for(request, site)
