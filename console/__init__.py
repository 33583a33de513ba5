"""The orderflow web console: a page (console/static/) that stocks SKUs, places orders on either
path and follows one through its timeline, the saga graph and the event flow map.

Served beside the API by the local cloud (`console.mount`, `python -m local serve --mount
/_console=console.mount:mount`) or in front of a deployed API by `python -m ops console`
(`console.server`, which signs every API request).
"""

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"
PREFIX = "/_console"
