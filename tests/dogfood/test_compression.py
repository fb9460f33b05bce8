"""The app compresses its own pages and API answers, whatever proxy is in front of it.

Found by the self-audit (tests/dogfood/test_self_audit.py): behind a TLS proxy that does
not compress, every page was sent uncompressed (edge.no_compression).
"""

import gzip
import json

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/openapi.json"])
def test_pages_and_api_are_gzipped_when_the_client_accepts_it(client, path):
    response = client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    body = gzip.decompress(response.content)
    if path.endswith(".json"):
        assert json.loads(body)["openapi"]
    else:
        assert b"<form" in body


@pytest.mark.django_db
def test_clients_that_do_not_ask_get_plain_bytes(client):
    response = client.get("/accounts/login/")
    assert not response.has_header("Content-Encoding")
    assert b"<form" in response.content
