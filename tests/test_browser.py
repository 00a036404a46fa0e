"""Cookie mode in a real browser: headless Chromium against the demo on a real server.

What only a browser shows: the token cookies are HttpOnly (page scripts cannot
read them) while the CSRF cookies are readable; the browser sends the cookies
by itself; a state-changing request succeeds only with the CSRF header copied
from the cookie. And how the page looks: it fits a 1280px screen and a 390px
phone without sideways scrolling, prints no raw token, and says what reuse
detection did; the screenshots it saves are the docs' (``JWTX_ARTIFACTS``).

Chromium and chromedriver come from Debian (``apt-get install chromium
chromium-driver``; ``.ci/run`` installs them). Without them the test is
skipped, except in CI, where their absence is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request

from demo.app import create_app
from flask_jwtx.testing import serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()

if not HAVE_BROWSER and os.environ.get("CI"):
    pytest.fail("CI must have Debian's chromium and chromium-driver", pytrace=False)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not HAVE_BROWSER, reason="chromium/chromedriver not installed"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="jwtx-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_script_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def logins() -> list[tuple[str, str | None]]:
    """The content type and ``Origin`` of each request the page makes to ``/auth/login``."""
    return []


@pytest.fixture
def page(browser: Any, tmp_path: Path, logins: list[tuple[str, str | None]]) -> Iterator[Any]:
    # The demo as ``bash demo/run.sh`` configures it: no setting overridden.
    app = create_app(str(tmp_path / "demo.sqlite3"))

    @app.before_request
    def note_logins() -> None:
        if request.endpoint == "jwtx_auth.login":
            logins.append((request.mimetype, request.headers.get("Origin")))

    with serve(app) as base:
        browser.delete_all_cookies()
        browser.get(base + "/")
        yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    app.extensions["flask-jwtx"].manager.close(app)


def run(page: Any, call: str) -> Any:
    """Await ``demo.<call>`` in the page and return its result."""
    script = "const done = arguments[arguments.length - 1];"
    script += f"demo.{call}.then(done, (error) => done(String(error)));"
    return page.execute_async_script(script)


def test_cookie_mode_with_csrf_in_a_browser(page: Any) -> None:
    assert run(page, 'login("alice", "wonderland")')["status"] == 200
    visible = page.execute_script("return demo.visibleCookies()")
    assert sorted(visible) == ["csrf_access_token", "csrf_refresh_token"], (
        "token cookies are HttpOnly: the page sees only the CSRF cookies"
    )
    assert run(page, "me()")["body"]["via"] == "cookies"
    forged = run(page, "forged()")
    assert (forged["status"], forged["body"]) == (401, {"msg": "Missing CSRF token"})
    assert run(page, "password()")["status"] == 200
    assert run(page, "refresh()")["status"] == 200
    assert run(page, "me()")["body"]["fresh"] is False
    assert run(page, "logout()")["status"] == 200
    assert page.execute_script("return demo.visibleCookies()") == []
    assert run(page, "me()")["status"] == 401


def test_wrong_password_in_a_browser(page: Any) -> None:
    assert run(page, 'login("alice", "nope")')["status"] == 401
    assert run(page, "me()")["status"] == 401


def artifact_dir() -> Path:
    """Where screenshots go: ``$JWTX_ARTIFACTS``, else a folder in the temp directory.

    ``JWTX_ARTIFACTS=docs/_static`` refreshes the screenshots the docs show.
    """
    folder = Path(
        os.environ.get("JWTX_ARTIFACTS") or Path(tempfile.gettempdir()) / "jwtx-artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def viewport(page: Any, width: int, height: int, *, mobile: bool) -> None:
    """Lay the page out as a screen of this size would (``mobile``: as a phone, viewport meta)."""
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}
    page.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def screenshot(page: Any, name: str, width: int, *, mobile: bool) -> None:
    """Save the whole page, as tall as its content, at ``width``."""
    height = int(page.execute_script("return document.documentElement.scrollHeight"))
    viewport(page, width, height, mobile=mobile)
    shot = artifact_dir() / name
    page.save_screenshot(str(shot))
    print(f"screenshot: {shot}")


def assert_fits(page: Any, width: int) -> None:
    """The page is laid out ``width`` pixels wide and nothing sticks out: no sideways scrolling."""
    scroll, inner = page.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]"
    )
    # A phone widens its layout viewport to content that overflows: compare with the screen too.
    assert scroll <= width, f"{scroll - width}px of horizontal scroll at {width}px"
    assert scroll <= inner
    assert inner == width, "the page is laid out for the screen (viewport meta on phones)"


#: A compact JWS (what every token of the demo is): three base64url parts, a JSON header.
JWT_TEXT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+")


def assert_no_tokens_shown(page: Any) -> None:
    """The page says its tokens sit in HttpOnly cookies it cannot read: none is printed."""
    text = page.find_element("tag name", "body").text
    assert JWT_TEXT.search(text) is None, "a raw token is printed on the page"


def rows(page: Any) -> list[str]:
    """The session ids the page lists, in order."""
    return list(
        page.execute_script(
            "return [...document.querySelectorAll('#sessions tr')].map((r) => r.dataset.session)"
        )
    )


def status_text(page: Any) -> str:
    return str(page.find_element("id", "status").text)


def explanation(page: Any) -> str:
    """What the page says about the last demo action (the box under the buttons)."""
    return str(page.find_element("id", "explain").text)


def log_in_with_the_form(page: Any) -> dict[str, Any]:
    """Submit the login form as a user would; the page's state once it shows the login."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    page.find_element(By.CSS_SELECTOR, "#login button").click()
    WebDriverWait(page, 20).until(lambda p: status_text(p).startswith("Logged in"))
    state: dict[str, Any] = run(page, "render()")
    return state


def assert_replay_ended_the_session(page: Any, session: str) -> None:
    """The replayed refresh token is refused, the page's own session is over, and it says so."""
    replay = run(page, "replay()")
    assert replay["status"] == 200
    assert replay["body"]["status"] == 401, "the replay comes after the grace window: reuse"
    assert replay["body"]["answer"] == {"msg": "Token has been revoked"}
    assert replay["body"]["session_ended"] is True
    message = explanation(page)
    assert (
        "The replayed refresh token was refused: POST /auth/refresh answered 401 "
        "(Token has been revoked)." in message
    )
    assert f"Reuse detection then ended the whole session {session[:8]}" in message
    assert "GET /auth/me with this page's own cookies now answers 401" in message
    assert "The grace window, JWT_REFRESH_REUSE_GRACE, is 0 s in this demo" in message
    assert "two tabs or a retried request racing the same rotation" in message
    assert status_text(page) == "Not logged in", "reuse detection ended the page's session"
    assert rows(page) == []


def test_sessions_page_in_a_browser(page: Any, logins: list[tuple[str, str | None]]) -> None:
    """At 1280px: log in, another device, rotation, ending a session, reuse, logging out."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    viewport(page, 1280, 900, mobile=False)
    assert status_text(page) == "Not logged in"
    state = log_in_with_the_form(page)
    assert state["loggedIn"] is True
    origin = page.current_url.rstrip("/")
    assert logins == [("application/json", origin)], "the form logs in with fetch and JSON"
    assert status_text(page) == f"Logged in as user 1 (session {state['session']})"
    claims = page.find_element(By.ID, "claims").text
    assert f'"fam": "{state["session"]}"' in claims, "the login's access token is in the session"
    assert '"fresh": true' in claims

    other = run(page, "otherDevice()")
    assert other["status"] == 200
    assert set(other["body"]) == {"session", "device"}, "its tokens stay on the server"
    assert "the demo server logged your user in" in explanation(page)
    assert run(page, "refresh()")["status"] == 200
    state = run(page, "render()")
    listed = rows(page)
    assert sorted(listed) == sorted([state["session"], other["body"]["session"]])
    current_row = page.find_element(By.CSS_SELECTOR, "#sessions tr.current")
    assert "(this one)" in current_row.text
    assert "Chrome/" in current_row.text, "the session shows the browser it came from"
    assert "from 127.0.0.1" in current_row.text
    other_row = page.find_element(
        By.CSS_SELECTOR, f'#sessions tr[data-session="{other["body"]["session"]}"]'
    )
    assert "simulated" in other_row.text
    assert_no_tokens_shown(page)
    assert_fits(page, 1280)
    screenshot(page, "demo-sessions.png", 1280, mobile=False)
    viewport(page, 1280, 900, mobile=False)

    button = f'#sessions tr[data-session="{other["body"]["session"]}"] button.end'
    page.find_element(By.CSS_SELECTOR, button).click()
    WebDriverWait(page, 20).until(lambda p: rows(p) == [state["session"]])

    assert_replay_ended_the_session(page, state["session"])
    assert_no_tokens_shown(page)
    assert_fits(page, 1280)
    screenshot(page, "demo-reuse.png", 1280, mobile=False)
    viewport(page, 1280, 900, mobile=False)
    assert run(page, "me()")["status"] == 401

    run(page, 'login("alice", "wonderland")')
    run(page, 'login("alice", "wonderland")')
    assert len(run(page, "render()")["sessions"]) == 2, "the first of these two is still listed"
    out = run(page, "everywhere()")
    assert (out["status"], out["body"]["sessions_ended"]) == (200, 2)
    assert status_text(page) == "Not logged in"
    assert page.execute_script("return demo.visibleCookies()") == []


def test_sessions_page_on_a_phone(page: Any) -> None:
    """At 390px, as a phone lays it out: sessions, claims and the replay story fit the width."""
    viewport(page, 390, 844, mobile=True)
    state = log_in_with_the_form(page)
    assert run(page, "otherDevice()")["status"] == 200
    assert run(page, "refresh()")["status"] == 200
    assert len(rows(page)) == 2
    assert_no_tokens_shown(page)
    assert_fits(page, 390)
    screenshot(page, "demo-sessions-phone.png", 390, mobile=True)
    viewport(page, 390, 844, mobile=True)

    assert_replay_ended_the_session(page, state["session"])
    assert_fits(page, 390)
    assert run(page, "me()")["status"] == 401


def test_logout_once_the_access_token_expired_in_a_browser(page: Any) -> None:
    """A tab left open past the access lifetime still logs out, and ends its session."""
    import time_machine

    assert run(page, 'login("alice", "wonderland")')["status"] == 200
    session = run(page, "render()")["session"]
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=16)):
        assert run(page, "me()")["body"] == {"msg": "Token has expired"}
        out = run(page, "logout()")
        assert (out["status"], out["body"]) == (200, {"logout": True, "session": session})
        assert page.execute_script("return demo.visibleCookies()") == []
    assert run(page, 'login("alice", "wonderland")')["status"] == 200
    again = run(page, "render()")
    assert session not in [s["id"] for s in again["sessions"]]
    # A browser that dropped the access cookies logs out with the refresh cookie.
    page.delete_cookie("access_token_cookie")
    page.delete_cookie("csrf_access_token")
    out = run(page, "logout()")
    assert (out["status"], out["body"]) == (200, {"logout": True, "session": again["session"]})
    assert run(page, "render()") == {"loggedIn": False, "sessions": []}


def test_a_cross_site_form_cannot_log_the_browser_in(page: Any) -> None:
    """A page on another site posting the login form gets a 403 and sets no cookie."""
    from selenium.webdriver.support.ui import WebDriverWait

    demo = page.current_url.rstrip("/")
    attacker = Flask("attacker")
    form = (
        f'<form method="post" action="{demo}/auth/login">'
        '<input name="username" value="alice"><input name="password" value="wonderland">'
        "</form><script>document.forms[0].submit()</script>"
    )
    attacker.add_url_rule("/", "page", lambda: form)
    with serve(attacker, host="localhost") as elsewhere:  # another site than 127.0.0.1
        page.get(elsewhere + "/")
        WebDriverWait(page, 20).until(lambda p: p.current_url.startswith(demo))
        assert "Cross-site login refused" in page.page_source
    page.get(demo + "/")
    assert run(page, "me()")["status"] == 401
    assert page.execute_script("return demo.visibleCookies()") == []
