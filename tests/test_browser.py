"""Cookie mode in a real browser: headless Chromium against the demo on a real server.

What only a browser shows: the token cookies are HttpOnly (page scripts cannot
read them) while the CSRF cookies are readable; the browser sends the cookies
by itself; a state-changing request succeeds only with the CSRF header copied
from the cookie.

Chromium and chromedriver come from Debian (``apt-get install chromium
chromium-driver``; ``.ci/run`` installs them). Without them the test is
skipped, except in CI, where their absence is a failure.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
def page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    # No reuse grace: the page's replay follows its refresh within milliseconds.
    app = create_app(str(tmp_path / "demo.sqlite3"), JWT_REFRESH_REUSE_GRACE=0)
    with serve(app) as base:
        browser.delete_all_cookies()
        browser.get(base + "/")
        yield browser
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
    """Where screenshots go: ``$JWTX_ARTIFACTS``, else a folder in the temp directory."""
    folder = Path(
        os.environ.get("JWTX_ARTIFACTS") or Path(tempfile.gettempdir()) / "jwtx-artifacts"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def rows(page: Any) -> list[str]:
    """The session ids the page lists, in order."""
    return list(
        page.execute_script(
            "return [...document.querySelectorAll('#sessions tr')].map((r) => r.dataset.session)"
        )
    )


def status_text(page: Any) -> str:
    return str(page.find_element("id", "status").text)


def test_sessions_page_in_a_browser(page: Any) -> None:
    from selenium.webdriver.common.by import By

    page.set_window_size(1200, 1000)
    assert status_text(page) == "Not logged in"
    from selenium.webdriver.support.ui import WebDriverWait

    page.find_element(By.CSS_SELECTOR, "#login button").click()  # the form, as a user would
    WebDriverWait(page, 20).until(lambda p: status_text(p).startswith("Logged in"))
    state = run(page, "render()")
    assert state["loggedIn"] is True
    assert status_text(page) == f"Logged in as user 1 (session {state['session']})"
    claims = page.find_element(By.ID, "claims").text
    assert f'"fam": "{state["session"]}"' in claims, "the login's access token is in the session"
    assert '"fresh": true' in claims

    assert run(page, "otherDevice()")["status"] == 200
    assert run(page, "refresh()")["status"] == 200
    state = run(page, "render()")
    listed = rows(page)
    assert len(listed) == 2
    assert state["session"] in listed
    current_row = page.find_element(By.CSS_SELECTOR, "#sessions tr.current")
    assert "(this one)" in current_row.text
    assert "Chrome/" in current_row.text, "the session shows the browser it came from"
    assert "from 127.0.0.1" in current_row.text
    shot = artifact_dir() / "demo-sessions.png"
    page.save_screenshot(str(shot))
    print(f"screenshot: {shot}")

    other = next(s for s in listed if s != state["session"])
    page.find_element(By.CSS_SELECTOR, f'#sessions tr[data-session="{other}"] button.end').click()
    WebDriverWait(page, 20).until(lambda p: rows(p) == [state["session"]])

    replay = run(page, "replay()")
    assert replay["status"] == 200
    assert replay["body"]["status"] == 401
    assert replay["body"]["answer"] == {"msg": "Token has been revoked"}
    assert status_text(page) == "Not logged in", "reuse detection ended the page's session"
    assert run(page, "me()")["status"] == 401
    assert rows(page) == []

    run(page, 'login("alice", "wonderland")')
    run(page, 'login("alice", "wonderland")')
    assert len(run(page, "render()")["sessions"]) == 2, "the first of these two is still listed"
    out = run(page, "everywhere()")
    assert (out["status"], out["body"]["sessions_ended"]) == (200, 2)
    assert status_text(page) == "Not logged in"
    assert page.execute_script("return demo.visibleCookies()") == []
