"""Print the orders API's OpenAPI document: ``python -m orders.openapi > docs/openapi.json``."""

from __future__ import annotations

from orders.handlers.api import app


def openapi_json() -> str:
    return app.get_openapi_json_schema(
        title="orderflow orders API",
        version="1.0.0",
        summary="Place orders (orchestrated or choreographed) and follow their status and timeline.",
    )


def main() -> None:
    print(openapi_json())


if __name__ == "__main__":
    main()
