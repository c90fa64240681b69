"""The OpenAPI document and the API docs page list every API route and only those."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


class OpenApiTests:
    def test_it_documents_every_api_route_and_only_those(self, client):
        from django.urls import get_resolver

        doc = client.get("/api/openapi.json").json()
        assert doc["openapi"].startswith("3.")
        documented = set(doc["paths"])
        routes = set()
        for pattern in get_resolver().url_patterns:
            for sub in getattr(pattern, "url_patterns", [pattern]):
                route = str(sub.pattern)
                if route.startswith("api/") and route != "api/openapi.json" and route != "api/docs/":
                    routes.add(
                        "/"
                        + route.replace("<uuid:code>", "{code}")
                        .replace("<int:site_id>", "{site_id}")
                        .replace("<str:kind>", "{kind}")
                    )
        assert routes == documented

    def test_it_lists_the_endpoints_on_a_page(self, client):
        resp = client.get("/api/docs/")
        assert resp.status_code == 200 and b"/api/runs/{code}/reweight/" in resp.content
