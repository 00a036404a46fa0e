"""Static typing of the public API: read by ``mypy --strict``, never run.

Not a test module (pytest does not collect it): a runtime test of
``assert_type`` could not fail. mypy fails CI if a decorator loses the view's
signature, a getter's return type changes, or a wrong call stops being an
error (with ``--strict`` an unused ``type: ignore`` is itself an error).
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


def decorators_keep_signatures() -> None:
    assert_type(view(1, verbose=True), str)
    view("not an int")  # type: ignore[arg-type]
    view(1, loud=True)  # type: ignore[call-arg]
    pending = async_view("x")
    assert_type(pending, Coroutine[Any, Any, dict[str, Any]]).close()


def public_signatures() -> None:
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
    assert_type(flask_jwtx.revoke_all("a"), None)
    assert_type(flask_jwtx.rotate_refresh_token(), tuple[str, str])


def loaders_keep_the_function() -> None:
    manager = flask_jwtx.JWTManager()

    @manager.user_lookup_loader
    def load(jwt_header: dict[str, Any], jwt_data: dict[str, Any]) -> str:
        return "user"

    assert_type(load({}, {}), str)


class User:
    name: str = "alice"


def typed_identity_and_user() -> None:
    assert_type(flask_jwtx.get_jwt_identity(), Any)
    assert_type(flask_jwtx.get_jwt_identity(as_type=int), int)
    assert_type(flask_jwtx.get_current_user(), Any)
    assert_type(flask_jwtx.get_current_user(as_type=User), User)
    me = flask_jwtx.user_proxy(User)
    assert_type(me.name, str)
    print(me.nickname)  # type: ignore[attr-defined]
    token = flask_jwtx.get_current_token()
    assert_type(token.sub, flask_jwtx.typing.JSONValue)
    assert_type(token.identity, flask_jwtx.typing.Identity)
    token.identity.upper()  # type: ignore[union-attr]
