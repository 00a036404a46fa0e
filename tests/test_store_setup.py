"""A store that cannot come up is one start-up error naming the setting, the URL and the fix.

Never a ``UnicodeError`` from deep in a socket library, never the password
back in a log, never a store that silently loses revocations.
"""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

import pytest
from flask import Flask

import flask_jwtx
from flask_jwtx.exceptions import ConfigurationError

from .conftest import SECRET


def start(store: str) -> None:
    app = Flask(__name__)
    app.config.update(JWT_SECRET_KEY=SECRET, JWT_REVOCATION_STORE=store)
    flask_jwtx.JWTManager(app).close(app)


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


class TestMissingDrivers:
    def test_a_driver_that_is_not_installed_is_named(self) -> None:
        message = refusal("postgresql+pg8000://app:hunter22@localhost/db")
        assert "pg8000 is not installed: pip install pg8000" in message

    @pytest.mark.parametrize(
        ("module", "attribute", "url", "expected"),
        [
            (
                "flask_jwtx.revocation.sql",
                "sa",
                "sqlite:////tmp/never-created/revocations.db",
                "sqlalchemy is not installed: pip install 'flask-jwtx[sql]'",
            ),
            (
                "flask_jwtx.revocation.redis",
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
        start(plain)


def _can_write(path: Path) -> bool:
    try:
        with path.open("ab"):
            return True
    except PermissionError:
        return False
