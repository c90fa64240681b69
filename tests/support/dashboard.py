"""Reading the dashboard API's JSON as a browser does."""

from __future__ import annotations

import json


def reject_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON: a browser's JSON.parse rejects it")


def json_strict(resp):
    assert resp.status_code == 200, resp.content[:300]
    return json.loads(resp.content, parse_constant=reject_constant)
