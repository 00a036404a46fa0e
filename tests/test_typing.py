"""Static typing of the public API, checked by ``mypy --strict`` over this file.

``assert_type`` is a no-op at run time; mypy fails the suite if a decorator
loses the view's signature or a getter's return type changes.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any, assert_type

import flask_jwtx


@flask_jwtx.jwt_required()
def view(user_id: int, *, verbose: bool = False) -> str:
    return f"{user_id}{verbose}"


@flask_jwtx.jwt_required(optional=True, locations=["headers", "cookies"])
async def async_view(name: str) -> dict[str, Any]:
    return {"name": name}


def test_decorators_keep_signatures() -> None:
    def check() -> None:  # never called: the body is only type-checked
        assert_type(view(1, verbose=True), str)
        # With strict mypy an unused "ignore" is an error: these lines prove that
        # a wrong call is still caught through the decorator.
        view("not an int")  # type: ignore[arg-type]
        view(1, loud=True)  # type: ignore[call-arg]
        pending = async_view("x")
        assert_type(pending, Coroutine[Any, Any, dict[str, Any]]).close()

    assert callable(check)
    assert view.__name__ == "view"


def test_public_signatures() -> None:
    def check() -> None:  # never called: the body is only type-checked
        assert_type(flask_jwtx.create_access_token("a"), str)
        assert_type(flask_jwtx.create_refresh_token("a"), str)
        assert_type(flask_jwtx.decode_token("t"), dict[str, Any])
        assert_type(flask_jwtx.get_jwt(), dict[str, Any])
        assert_type(flask_jwtx.get_jwt_header(), dict[str, Any])
        assert_type(flask_jwtx.get_jti("t"), str | None)
        assert_type(flask_jwtx.get_csrf_token("t"), str)
        assert_type(flask_jwtx.get_jwt_request_location(), str | None)
        assert_type(
            flask_jwtx.verify_jwt_in_request(),
            tuple[dict[str, Any], dict[str, Any]] | None,
        )

    assert callable(check)
