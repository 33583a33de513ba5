"""moto's answers, made faster without changing one byte of them (docs/decisions.md, 21;
compared with moto's own in tests/local/test_speed_patches.py): the keys its response serializer
tries per output member, kept; SDK requests answered without Flask's request cycle."""

from __future__ import annotations

import functools
from typing import Any

from botocore.exceptions import ClientError


def answer_without_flask(backend_app: Any, environ: dict[str, Any], start_response: Any) -> Any:
    """Runs one request on moto's backend app the way its Flask app would, without Flask.

    moto's server wraps every service in a Flask app whose only view is moto's own
    `convert_to_flask_response` around the service's dispatch. Flask's request context, hooks
    and response finalizing cost a fifth of a GetItem's time in moto and add nothing to an SDK
    request: moto's views read only the request, and the one after-request hook (CORS) adds the
    same header to every answer to a request without an Origin. So the URL is matched on the
    app's own rules and the view's callback gets the request as moto's view builds it; the answer
    is the same Flask Response, with that header.

    Returns None, having done nothing, where Flask must answer: a browser's request (Origin or
    OPTIONS, for CORS), a URL the rules do not match (Flask's 404/405/redirect), a view that is
    not moto's dispatch (moto's own dashboard). Compared with Flask's answers in
    tests/local/test_speed_patches.py."""
    from flask import Response
    from moto.core.utils import convert_to_flask_response, normalize_request
    from moto.moto_api import recorder
    from werkzeug.exceptions import HTTPException

    if environ.get("HTTP_ORIGIN") or environ.get("REQUEST_METHOD") == "OPTIONS":
        return None
    hooks = backend_app.after_request_funcs.get(None, [])
    if any(getattr(hook, "__name__", "") != "cors_after_request" for hook in hooks):
        return None
    try:
        endpoint, _ = backend_app.url_map.bind_to_environ(environ).match()
    except HTTPException:
        return None
    view = backend_app.view_functions.get(endpoint)
    if not isinstance(view, convert_to_flask_response):
        return None
    request = backend_app.request_class(environ)
    request.json_module = backend_app.json
    try:
        # From here on, what moto's convert_to_flask_response.__call__ does.
        request = normalize_request(request)
        recorder._record_request(request)
        try:
            result = view.callback(request, request.raw_url, dict(request.headers))
        except ClientError as exc:
            result = 400, {}, exc.response["Error"]["Message"]
        if len(result) == 3:
            status, headers, content = result
        else:
            status, headers, content = 200, {}, result
        response: Any = Response(response=content, status=status, headers=headers)
        if request.method == "HEAD" and "content-length" in headers:
            response.headers["Content-Length"] = headers["content-length"]
    except HTTPException as refused:  # Flask answers a view's HTTP exception with its response
        response = refused.get_response(environ)
    if hooks and "Access-Control-Allow-Origin" not in response.headers:
        # moto's CORS(app) (flask_cors, every origin allowed) answers a request without an
        # Origin with this one header.
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response(environ, start_response)


def cache_response_keys() -> None:
    """moto's response serializer looks up every member of every output shape through six alias
    providers, built anew for each lookup, plus the snake_case form of each name. For a DynamoDB
    item that is ten members per attribute value (S, N, B, ... BOOL), about 120 lookups and 300
    dictionary probes for a 13-attribute item: half of a GetItem's time in moto's server.

    For a plain dict the keys tried depend only on the member (its shape, name and enclosing
    structure) and on the picker, never on the dict's contents: no dict has a `Meta` alias table
    and every dict's class name is `dict`. So they are worked out once per member shape, by
    moto's own providers, and kept on the shape; the values are then read in the same order with
    the same "first present key wins" rule, so the answer is byte for byte moto's
    (tests/local/test_speed_patches.py). Objects other than plain dicts, and pickers with
    response transformers (which see the key path), take moto's own path. Installed process-wide
    and idempotent: the unit tests' `mock_aws` gets it too (tests/conftest.py)."""
    from moto.core import serialize
    from moto.core.utils import get_value as moto_get_value

    if getattr(serialize.ResponseSerializer.get_value, "_local_cached", False):
        return
    original = serialize.ResponseSerializer.get_value
    missing = serialize.MISSING

    @functools.wraps(original)
    def get_value(self: Any, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is not dict
            or shape is None
            or not isinstance(picker, serialize.AttributePicker)
            or type(picker).__call__ is not serialize.AttributePicker.__call__
            or picker.response_transformers
        ):
            return original(self, value, key, shape)
        known = shape.__dict__.get("_local_possible_keys")
        if known is None:
            known = shape.__dict__.setdefault("_local_possible_keys", {})
        # The enclosing structure is part of the question (ShapeNameAlias and ShapePrefixAlias
        # read shape.parent), and so are the picker's class and providers.
        question = (type(picker), tuple(picker.alias_providers), key, id(getattr(shape, "parent", None)))
        keys = known.get(question)
        if keys is None:
            context = serialize.AttributePickerContext(
                obj=value,
                key=key,
                shape=shape,
                operation_model=self.operation_model,
                service_model=self.operation_model.service_model,
                key_path=".".join(self.path),
            )
            keys = known[question] = tuple(
                (candidate, isinstance(candidate, str) and "." in candidate)
                for candidate in picker.get_possible_keys(context)
            )
        for candidate, is_path in keys:
            found = moto_get_value(value, candidate, missing) if is_path else value.get(candidate, missing)
            if found is not missing:
                return found
        return None

    get_value._local_cached = True  # type: ignore[attr-defined]
    get_value._moto_original = original  # type: ignore[attr-defined]
    serialize.ResponseSerializer.get_value = get_value  # type: ignore[method-assign]
