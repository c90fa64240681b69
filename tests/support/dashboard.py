"""Reading the dashboard API's JSON as a browser does."""

from __future__ import annotations

import json


def reject_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON: a browser's JSON.parse rejects it")


def json_strict(resp):
    assert resp.status_code == 200, resp.content[:300]
    return json.loads(resp.content, parse_constant=reject_constant)


def map_columns(data):
    """Return the map data's columns with their coded values decoded, as the map page does."""
    columns = dict(data["columns"])
    for name, values in data.get("codes", {}).items():
        columns[name] = [None if k is None else values[k] for k in columns[name]]
    return columns
