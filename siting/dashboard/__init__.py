"""The planners' dashboard: ranked map, site page, JSON API and its OpenAPI description."""
