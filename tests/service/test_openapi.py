"""The OpenAPI document: an OpenAPI 3.1 structure (checked here: no validator package offline),
every route the application registers described with its responses, every parameter with a
schema, every $ref resolving."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from crossbook.service.api import build_app, endpoints
from crossbook.service.openapi import document
from tests.conftest import run

from .conftest import Served
from .test_api import _get

METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
DASHBOARD_PATHS = {"/"}  # the page itself: no API, no data


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def test_the_served_document_is_a_valid_openapi_3_1_structure(served: Served) -> None:
    status, doc = run(_get(served, "/openapi.json"))
    assert status == 200
    assert doc == document(endpoints())
    assert doc["openapi"].startswith("3.1") and doc["info"]["title"] and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    operation_ids = []
    for path, item in doc["paths"].items():
        assert path.startswith("/")
        templated = {part[1:-1] for part in path.split("/") if part.startswith("{")}
        for method, op in item.items():
            assert method in METHODS, (path, method)
            assert op["responses"] and all(code.isdigit() and r["description"] for code, r in op["responses"].items())
            operation_ids.append(op["operationId"])
            in_path = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert in_path == templated, (path, method)
            for param in op["parameters"]:
                assert param["in"] in ("query", "path") and isinstance(param["schema"], dict) and param["schema"], param
                assert param["in"] != "path" or param["required"] is True
    assert len(operation_ids) == len(set(operation_ids))
    refs = _refs(doc)
    assert len(refs) > len(doc["paths"])  # every response names its schema by $ref
    for ref in refs:
        _resolve(doc, ref)


def test_every_registered_route_is_in_the_document(served: Served) -> None:
    status, doc = run(_get(served, "/openapi.json"))
    assert status == 200
    app = build_app(served.service)
    registered = set()
    for route in app.router.routes():
        resource = route.resource
        if resource is None or isinstance(resource, web.StaticResource) or route.method == "HEAD":
            continue
        path = resource.canonical
        if path in DASHBOARD_PATHS or path.startswith(("/static", "/vendor")):
            continue
        registered.add((path, route.method.lower()))
    documented = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert registered and registered <= documented, registered - documented
    assert {("/route", "post"), ("/stream", "get"), ("/orders/{venue}/{id}", "delete")} <= registered
