"""API docs for a Starlette app with a hand-written OpenAPI description: `/docs` and
`/redoc` pages with local assets, and alias expansion for the served description."""

from common.apidocs.aliases import expand_aliases
from common.apidocs.pages import docs_routes

__all__ = ["docs_routes", "expand_aliases"]
