"""A store that cannot come up is one start-up error naming the setting, the URL and the fix.

Never a ``UnicodeError`` from deep in a socket library, never the password
back in a log, never a store that silently loses revocations.
"""

from __future__ import annotations

import importlib.util
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask import Flask

import flask_jwtx
from flask_jwtx.exceptions import ConfigurationError

from .helpers import SECRET, bearer


def start(store: str) -> None:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=store)
    flask_jwtx.JWTManager(app).close(app)


def round_trip(store: str) -> None:
    """The app starts on ``store``, and a record written through it is read back."""
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=store)
    manager = flask_jwtx.JWTManager(app)
    try:
        with app.app_context():
            revocations = app.extensions["flask-jwtx"].settings.get().revocation_store
            revocations.put("jti:round-trip", "1", None)
            assert revocations.get_many(["jti:round-trip"]) == ["1"]
    finally:
        manager.close(app)


def refusal(store: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        start(store)
    message = str(caught.value)
    assert message.startswith("JWT_REVOCATION_STORE")
    assert "hunter22" not in message, "the password leaked into the message"
    return message


class TestPlaceholdersLeftInTheURL:
    @pytest.mark.parametrize(
        "url",
        [
            "redis://:hunter22@HOST:PORT/0",
            "postgresql://app:hunter22@HOST:PORT/db",
            "postgresql+psycopg://app:hunter22@localhost:PORT/db",
        ],
    )
    def test_a_port_placeholder_is_named(self, url: str) -> None:
        assert "PORT" in refusal(url)

    @pytest.mark.parametrize(
        "host",
        ["your-redis-host..example.com", "a" * 64 + ".example.com"],
        ids=["empty-label", "label-too-long"],
    )
    def test_a_host_that_cannot_be_a_host_name(self, host: str) -> None:
        message = refusal(f"redis://:hunter22@{host}:6379/0")
        assert "host name is not a valid DNS name" in message
        assert host in message

    def test_an_unknown_scheme_lists_the_ones_we_take(self) -> None:
        assert "memory://" in refusal("mysql://app:hunter22@localhost/db")


class TestServersThatDoNotAnswer:
    def test_redis(self) -> None:
        message = refusal("redis://:hunter22@127.0.0.1:1/0")
        assert "redis://127.0.0.1:1/0" in message
        assert "Start the server or fix the URL." in message

    def test_postgresql_with_a_one_letter_password_keeps_the_message_readable(self) -> None:
        with pytest.raises(ConfigurationError) as caught:
            start("postgres://app:p@127.0.0.1:1/db")  # postgres:// as Heroku spells it
        message = str(caught.value)
        assert "cannot be reached" in message
        assert "port 1" in message, message


@pytest.fixture(scope="module")
def redis_with_password() -> Iterator[str]:
    """A real redis-server that wants the password hunter22; yields its unix socket path."""
    from .stores import RedisServer

    server = RedisServer()
    redis.Redis(unix_socket_path=server.socket).config_set("requirepass", "hunter22")
    yield server.socket
    redis.Redis(unix_socket_path=server.socket, password="hunter22").config_set("requirepass", "")
    server.stop()


class TestRedisThatWantsAPassword:
    def test_no_password_says_to_put_it_in_the_url(self, redis_with_password: str) -> None:
        message = refusal(f"unix://{redis_with_password}")
        assert "the server answers but refused this client" in message
        assert "The server wants a password: put it in the URL, as redis://:PASSWORD@" in message
        assert "Start the server" not in message

    def test_a_wrong_password_says_to_check_it(self, redis_with_password: str) -> None:
        message = refusal(f"unix://{redis_with_password}?password=hunter222")
        assert message.endswith("Check the user name and password the URL gives.")
        assert "hunter222" not in message
        assert "Start the server" not in message

    def test_the_right_password_works(self, redis_with_password: str) -> None:
        round_trip(f"unix://{redis_with_password}?password=hunter22")


class TestSQLiteFiles:
    def test_a_missing_folder(self, tmp_path: Path) -> None:
        message = refusal(f"sqlite:///{tmp_path}/missing/revocations.db")
        assert f"The folder {tmp_path}/missing does not exist" in message

    def test_a_folder_that_is_a_file(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_text("")
        message = refusal(f"sqlite:///{tmp_path}/file/revocations.db")
        assert f"{tmp_path}/file is not a folder" in message

    def test_a_read_only_file(self, tmp_path: Path) -> None:
        database = tmp_path / "revocations.db"
        database.write_bytes(b"")
        database.chmod(stat.S_IRUSR)
        if database.stat().st_mode & stat.S_IWUSR or _can_write(database):
            pytest.skip("this user writes read-only files (root)")
        assert "cannot be written by this process" in refusal(f"sqlite:///{database}")

    @pytest.mark.parametrize(
        "url", ["sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:///file:x?mode=memory"]
    )
    def test_an_in_memory_database_is_refused(self, url: str) -> None:
        # Each connection would get its own empty database: revocations lost between threads.
        assert "use memory://" in refusal(url)

    def test_a_writable_file_works(self, tmp_path: Path) -> None:
        start(f"sqlite:///{tmp_path}/revocations.db")
        assert (tmp_path / "revocations.db").exists()


class TestRelativeSQLitePathsAreInTheInstanceFolder:
    """As Flask-SQLAlchemy 3 reads ``sqlite:///name.db``: in the instance folder, not the cwd."""

    def app_in(self, instance: Path, url: str) -> Flask:
        app = Flask(__name__, instance_path=str(instance))
        app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=url)
        flask_jwtx.JWTManager(app)
        return app

    def test_the_same_url_is_the_same_file_from_any_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        instance = tmp_path / "instance"
        monkeypatch.chdir(tmp_path)
        writer = self.app_in(instance, "sqlite:///revocations.db")
        assert (instance / "revocations.db").exists(), "the instance folder is created"
        assert not (tmp_path / "revocations.db").exists()
        with writer.app_context():
            token = flask_jwtx.create_access_token("alice")
            flask_jwtx.revoke_token(token)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        reader = self.app_in(instance, "sqlite:///revocations.db")
        reader.add_url_rule("/me", view_func=flask_jwtx.jwt_required()(lambda: "ok"))
        answer = reader.test_client().get("/me", headers=bearer(token))
        assert (answer.status_code, answer.get_json()) == (401, {"msg": "Token has been revoked"})
        for app in (writer, reader):
            app.extensions["flask-jwtx"].manager.close(app)

    def test_a_uri_form_path_too(self, tmp_path: Path) -> None:
        app = self.app_in(tmp_path / "instance", "sqlite:///file:revocations.db?uri=true")
        app.extensions["flask-jwtx"].manager.close(app)
        assert (tmp_path / "instance" / "revocations.db").exists()

    def test_a_missing_subfolder_is_named_where_it_was_looked_for(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigurationError) as caught:
            self.app_in(tmp_path / "instance", "sqlite:///data/revocations.db")
        assert f"The folder {tmp_path}/instance/data does not exist" in str(caught.value)

    def test_an_instance_folder_that_cannot_be_created(self, tmp_path: Path) -> None:
        (tmp_path / "file").write_text("")
        with pytest.raises(ConfigurationError) as caught:
            self.app_in(tmp_path / "file" / "instance", "sqlite:///revocations.db")
        message = str(caught.value)
        assert message.startswith("JWT_REVOCATION_STORE is sqlite:///revocations.db")
        assert f"instance folder {tmp_path}/file/instance, which cannot be created" in message

    def test_absolute_paths_are_left_alone(self, tmp_path: Path) -> None:
        app = self.app_in(tmp_path / "instance", f"sqlite:///{tmp_path}/revocations.db")
        app.extensions["flask-jwtx"].manager.close(app)
        assert (tmp_path / "revocations.db").exists()
        assert not (tmp_path / "instance").exists()


class TestMissingDrivers:
    def test_a_driver_that_is_not_installed_is_named(self) -> None:
        message = refusal("postgresql+pg8000://app:hunter22@localhost/db")
        assert "pg8000 is not installed: pip install pg8000" in message

    @pytest.mark.parametrize(
        ("module", "attribute", "url", "expected"),
        [
            (
                "flask_jwtx._core.revocation.sql",
                "sa",
                "sqlite:////tmp/never-created/revocations.db",
                "sqlalchemy is not installed: pip install 'flask-jwtx[sql]'",
            ),
            (
                "flask_jwtx._core.revocation.redis",
                "_redis",
                "redis://localhost:1/0",
                "redis is not installed: pip install 'flask-jwtx[redis]'",
            ),
        ],
    )
    def test_our_own_extras_are_named_when_missing(
        self,
        monkeypatch: pytest.MonkeyPatch,
        module: str,
        attribute: str,
        url: str,
        expected: str,
    ) -> None:
        # As in an install without the extra (found by `flask jwt check` in a fresh venv,
        # which printed "is not installed: pip install " with no name).
        monkeypatch.setattr(f"{module}.{attribute}", None)
        assert expected in refusal(url)

    def test_psycopg2_points_at_our_extra(self) -> None:
        if importlib.util.find_spec("psycopg2") is not None:  # pragma: no cover
            pytest.skip("psycopg2 is installed here (it is not in our test extra)")
        message = refusal("postgresql+psycopg2://app:hunter22@localhost/db")
        assert "flask-jwtx[postgresql]" in message

    def test_a_plain_postgresql_url_uses_psycopg_3(self, postgres_server: object) -> None:
        # SQLAlchemy 2.0 would pick psycopg2 for postgresql://; we install psycopg 3.
        url = str(postgres_server.url)  # type: ignore[attr-defined]
        plain = "postgresql://" + url.partition("://")[2]
        round_trip(plain)


def _can_write(path: Path) -> bool:
    try:
        with path.open("ab"):
            return True
    except PermissionError:
        return False
