"""API docs for a Starlette app with a hand-written OpenAPI description: `/docs` and
`/redoc` pages with local assets, and alias expansion for the served description."""

from gateway.apidocs.aliases import expand_aliases
from gateway.apidocs.pages import docs_routes

__all__ = ["docs_routes", "expand_aliases"]
