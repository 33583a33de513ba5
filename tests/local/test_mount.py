"""Pages beside the API: `static_files` and `python -m local serve --static/--mount` (no cloud needed)."""

from __future__ import annotations

import pytest

from local.apigateway import ApiGateway
from local.apigateway_http import ApiRequest, static_files
from local.cli import parse_mounts


def request(path: str, method: str = "GET") -> ApiRequest:
    return ApiRequest(method, path, {}, {}, [], b"", "127.0.0.1", "localhost", "r-1")


def test_static_files_serve_a_directory_and_nothing_outside_it(tmp_path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>hi</h1>")
    (site / "app.js").write_text("1")
    (tmp_path / "secret.txt").write_text("no")
    serve = static_files(site, "/_page")
    assert serve(request("/_page")).status == 301
    index = serve(request("/_page/"))
    assert index.status == 200 and index.body == b"<h1>hi</h1>"
    assert ("Content-Type", "text/html; charset=utf-8") in index.headers
    assert serve(request("/_page/app.js")).status == 200
    assert serve(request("/_page/%2e%2e/secret.txt")).status == 404
    assert serve(request("/_page/../secret.txt")).status == 404
    assert serve(request("/_page/missing")).status == 404
    assert serve(request("/_page/app.js", "POST")).status == 405


def test_mounts_match_their_prefix_only() -> None:
    gateway = ApiGateway([], lambda name, event: None, account_id="123456789012")  # type: ignore[arg-type, return-value]
    try:
        handler = static_files(".", "/_console")
        gateway.mount("/_console/", handler)
        assert gateway.mounted("/_console") is handler
        assert gateway.mounted("/_console/x.js?v=1") is handler
        assert gateway.mounted("/_consoles") is None and gateway.mounted("/orders") is None
        gateway.mount("/_console", None)
        assert gateway.mounted("/_console") is None
        with pytest.raises(ValueError):
            gateway.mount("/", handler)
    finally:
        gateway.close()


def test_the_cli_parses_static_and_mount_options(tmp_path) -> None:
    assert parse_mounts([f"/docs={tmp_path}"], ["_console=console.mount:mount"]) == [
        ("/docs", "static", str(tmp_path)),
        ("/_console", "mount", "console.mount:mount"),
    ]
    for statics, mounts in (([f"{tmp_path}"], []), ([f"/docs={tmp_path / 'none'}"], []), ([], ["/x=module"])):
        with pytest.raises(SystemExit):
            parse_mounts(statics, mounts)
