"""A real Flask-AppBuilder app and its JWT scenarios, on either library.

    python tests/fab_scenarios.py real  # Flask-AppBuilder on Flask-JWT-Extended
    python tests/fab_scenarios.py shim  # the same, after install_as_flask_jwt_extended()

Flask-AppBuilder imports ``flask_jwt_extended`` itself; in ``shim`` mode
``flask_jwtx.install_as_flask_jwt_extended()`` runs first, so it gets
flask-jwtx. Prints a JSON object with the HTTP outcomes of each scenario
(``scenarios``) and facts about which library served them (``facts``).
``test_fje_module_layout`` runs this in a virtual environment of its own,
under both modes, and compares.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from typing import Any

MODE = sys.argv[1] if len(sys.argv) > 1 else "shim"
if MODE == "shim":
    import flask_jwtx

    flask_jwtx.install_as_flask_jwt_extended()

import flask_jwt_extended  # noqa: E402 - must come after the install above
import jwt  # noqa: E402
from flask import Flask  # noqa: E402
from flask_appbuilder import AppBuilder, Model, ModelRestApi  # noqa: E402
from flask_appbuilder.const import AUTH_DB  # noqa: E402
from flask_appbuilder.models.sqla.interface import SQLAInterface  # noqa: E402
from flask_appbuilder.utils.legacy import get_sqla_class  # noqa: E402
from sqlalchemy import Column, Integer, String  # noqa: E402

SECRET = "fab-jwt-secret-long-enough-for-hs512-0123456789abcdef0123456789abcdef"
PASSWORD = "correct horse battery staple"


class Note(Model):
    __tablename__ = "note"
    id = Column(Integer, primary_key=True)
    text = Column(String(200), nullable=False)


class NoteApi(ModelRestApi):
    resource_name = "note"
    datamodel = SQLAInterface(Note)


def build() -> tuple[Flask, Any]:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=SECRET,
        JWT_SECRET_KEY=SECRET,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        AUTH_TYPE=AUTH_DB,
        WTF_CSRF_ENABLED=False,
        TESTING=True,
    )
    db = get_sqla_class()()
    db.init_app(app)
    with app.app_context():
        appbuilder = AppBuilder(app, db.session)
        appbuilder.add_api(NoteApi)
        db.create_all()
        sm = appbuilder.sm
        admin = sm.find_role(sm.auth_role_admin)
        public = sm.find_role(sm.auth_role_public)
        sm.add_user("admin", "Ada", "Admin", "admin@example.org", admin, PASSWORD)
        sm.add_user("guest", "Gus", "Guest", "guest@example.org", public, PASSWORD)
        sm.add_user("gone", "Gail", "Gone", "gone@example.org", admin, PASSWORD)
        gone = sm.find_user(username="gone")
        gone.active = False
        db.session.commit()
    return app, appbuilder


def outcome(response: Any) -> list[Any]:
    """Status and body; token values (random) are replaced by their presence."""
    body = response.get_json(silent=True)
    if isinstance(body, dict):
        body = {k: "<token>" if k.endswith("_token") else v for k, v in body.items()}
    return [response.status_code, body]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def main() -> dict[str, Any]:
    app, appbuilder = build()
    client = app.test_client()
    scenarios: dict[str, Any] = {}

    def login(username: str, password: str = PASSWORD) -> Any:
        return client.post(
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": True},
        )

    scenarios["login with a wrong password"] = outcome(login("admin", "wrong"))
    response = login("admin")
    scenarios["login"] = outcome(response)
    access, refresh = response.get_json()["access_token"], response.get_json()["refresh_token"]

    scenarios["menu without a token"] = outcome(client.get("/api/v1/menu/"))
    scenarios["menu with the access token"] = outcome(
        client.get("/api/v1/menu/", headers=bearer(access))
    )
    scenarios["menu with the refresh token"] = outcome(
        client.get("/api/v1/menu/", headers=bearer(refresh))
    )
    scenarios["menu with a malformed token"] = outcome(
        client.get("/api/v1/menu/", headers=bearer("not.a.token"))
    )
    scenarios["menu with a bad header"] = outcome(
        client.get("/api/v1/menu/", headers={"Authorization": f"Bearer {access} extra"})
    )

    scenarios["refresh with the access token"] = outcome(
        client.post("/api/v1/security/refresh", headers=bearer(access))
    )
    response = client.post("/api/v1/security/refresh", headers=bearer(refresh))
    scenarios["refresh"] = outcome(response)
    refreshed = response.get_json()["access_token"]
    scenarios["menu with the refreshed token"] = outcome(
        client.get("/api/v1/menu/", headers=bearer(refreshed))
    )

    scenarios["notes without a token"] = outcome(client.get("/api/v1/note/"))
    scenarios["create a note"] = outcome(
        client.post("/api/v1/note/", json={"text": "hello"}, headers=bearer(access))
    )
    listed = client.get("/api/v1/note/", headers=bearer(access))
    scenarios["list notes"] = [listed.status_code, listed.get_json()["result"]]

    guest = login("guest").get_json()["access_token"]
    scenarios["notes for a user without permission"] = outcome(
        client.get("/api/v1/note/", headers=bearer(guest))
    )
    scenarios["login of an inactive user"] = outcome(login("gone"))

    facts: dict[str, Any] = {
        "flask_jwt_extended": flask_jwt_extended.__name__,
        "flask_jwt_extended file": flask_jwt_extended.__file__,
        "fab manager class": type(appbuilder.sm.jwt_manager).__module__,
        "sub": jwt.decode(access, SECRET, algorithms=["HS256"])["sub"],
        "fresh": jwt.decode(access, SECRET, algorithms=["HS256"])["fresh"],
        "refreshed fresh": jwt.decode(refreshed, SECRET, algorithms=["HS256"])["fresh"],
    }
    with app.app_context():
        admin_id = str(appbuilder.sm.find_user(username="admin").id)
        gone_id = str(appbuilder.sm.find_user(username="gone").id)
        # A token for a user deactivated since: the user lookup returns None.
        stale = flask_jwt_extended.create_access_token(identity=gone_id)
        expired = flask_jwt_extended.create_access_token(
            identity=admin_id, expires_delta=timedelta(seconds=-5)
        )
        if MODE == "shim":
            import flask_jwtx

            facts["verified by flask_jwtx"] = flask_jwtx.decode_token(access)["sub"]
            facts["manager is flask_jwtx's"] = isinstance(
                appbuilder.sm.jwt_manager, flask_jwtx.JWTManager
            )
    facts["admin id"] = admin_id
    scenarios["menu for a deactivated user"] = outcome(
        client.get("/api/v1/menu/", headers=bearer(stale))
    )
    scenarios["menu with an expired token"] = outcome(
        client.get("/api/v1/menu/", headers=bearer(expired))
    )
    return {"scenarios": scenarios, "facts": facts}


if __name__ == "__main__":
    json.dump(main(), sys.stdout, sort_keys=True)
