"""Cookie mode in a real browser: headless Chromium against the demo on a real server.

What only a browser shows: the token cookies are HttpOnly (page scripts cannot
read them) while the CSRF cookies are readable; the browser sends the cookies
by itself; a state-changing request succeeds only with the CSRF header copied
from the cookie. And DPoP in the page: WebCrypto holds a private key no script
can export, the page signs a proof per request, and a token copied out of the
browser is refused when a plain HTTP client replays it against the same
server. And how the page looks: it fits a 1280px screen and a 390px phone
without sideways scrolling, prints no raw token, and says what reuse
detection did; the screenshots it saves are the docs' (``JWTX_ARTIFACTS``).

Chromium and chromedriver come from Debian (``apt-get install chromium
chromium-driver``; ``.ci/run`` installs them). Without them the test is
skipped, except in CI, where their absence is a failure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask, request

from demo.app import create_app
from flask_jwtx import jwk_thumbprint
from flask_jwtx.testing import serve

from .dpop_proofs import PrivateKey, jkt, new_key, proof

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
def wire() -> list[tuple[str, str, str]]:
    """Each DPoP proof the page sends, ``(method, path, proof)``: what a proxy on the way sees."""
    return []


@pytest.fixture
def page(
    browser: Any,
    tmp_path: Path,
    logins: list[tuple[str, str | None]],
    wire: list[tuple[str, str, str]],
) -> Iterator[Any]:
    # The demo as ``bash demo/run.sh`` configures it: no setting overridden.
    app = create_app(str(tmp_path / "demo.sqlite3"))

    @app.before_request
    def note_logins() -> None:
        if request.endpoint == "jwtx_auth.login":
            logins.append((request.mimetype, request.headers.get("Origin")))

    @app.before_request
    def note_proofs() -> None:
        if "DPoP" in request.headers:
            wire.append((request.method, request.path, request.headers["DPoP"]))

    with serve(app) as base:
        browser.delete_all_cookies()
        # A port an earlier test's server had is the same origin: start without its DPoP key.
        browser.execute_cdp_cmd(
            "Storage.clearDataForOrigin", {"origin": base, "storageTypes": "indexeddb"}
        )
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


# --- DPoP: a key the page cannot export, a token useless anywhere else ---------------

Answer = tuple[int, dict[str, Any], str | None]

#: No proxy from the environment between the tests and the loopback server.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method: str, url: str, headers: dict[str, str], body: Any = None) -> Answer:
    """One request from outside the browser: its status, JSON body and ``DPoP-Nonce``."""
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(  # noqa: S310 - the loopback test server
        url, data=data, method=method, headers={"Content-Type": "application/json", **headers}
    )
    try:
        with _DIRECT.open(sent, timeout=10) as answer:
            return answer.status, json.loads(answer.read()), answer.headers.get("DPoP-Nonce")
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, json.loads(refused.read()), refused.headers.get("DPoP-Nonce")


def after_a_nonce(send: Callable[[str | None], Answer]) -> Answer:
    """``send`` a proof without a nonce, then again with the one the refusal hands out.

    The demo requires server nonces, which any client may fetch: they bound
    how long a proof lives, not who sends it. The answer that counts is the second.
    """
    status, body, nonce = send(None)
    assert (status, body) == (401, {"msg": "DPoP proof needs a fresh server nonce"})
    assert nonce is not None
    return send(nonce)


def dpop_call(url: str, token: str, key: PrivateKey, method: str = "GET") -> Answer:
    """``token`` under the DPoP scheme with a proof signed by ``key``, from outside the browser."""
    return after_a_nonce(
        lambda nonce: http(
            method,
            url,
            {
                "Authorization": f"DPoP {token}",
                "DPoP": proof(key, method=method, url=url, token=token, nonce=nonce),
            },
        )
    )


def dpop_text(page: Any) -> str:
    """What the DPoP panel says about its last action."""
    return str(page.find_element("id", "dpopOut").text)


def test_the_dpop_private_key_cannot_be_exported_and_survives_a_reload(page: Any) -> None:
    """WebCrypto refuses to export the page's private key; IndexedDB keeps the key on reload."""
    made = run(page, "dpop.ready")
    assert made["reused"] is False
    assert set(made["jwk"]) == {"crv", "kty", "x", "y"}, "the proofs' jwk: public members only"
    assert made["jkt"] == jwk_thumbprint(made["jwk"]), "the page computes RFC 7638 thumbprints"
    private = page.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        const { privateKey } = demo.dpop.key();
        const exports = ["jwk", "pkcs8"].map((format) =>
          crypto.subtle.exportKey(format, privateKey).then(() => "exported", (e) => e.name));
        Promise.all(exports).then((answers) => done({
          type: privateKey.type, extractable: privateKey.extractable,
          usages: privateKey.usages, answers,
        }), (error) => done(String(error)));
        """
    )
    assert private == {
        "type": "private",
        "extractable": False,
        "usages": ["sign"],
        "answers": ["InvalidAccessError", "InvalidAccessError"],
    }, "no script, the page's own included, can read the private key"
    key_line = str(page.find_element("id", "dpopKey").text)
    assert "private key not extractable, made now, kept in IndexedDB" in key_line
    assert made["jkt"] in key_line

    page.refresh()
    again = run(page, "dpop.ready")
    assert (again["jkt"], again["reused"]) == (made["jkt"], True), "the same key after a reload"
    assert "kept in IndexedDB from an earlier visit" in str(
        page.find_element("id", "dpopKey").text
    )


def log_in_with_dpop(page: Any) -> str:
    """Log in from the DPoP panel and call the API once; the thumbprint of the page's key."""
    key: str = run(page, "dpop.ready")["jkt"]
    login = run(page, 'dpop.login("alice", "wonderland")')
    assert (login["status"], login["boundTo"], login["askedForNonce"]) == (200, key, True)
    assert login["body"]["token_type"] == "DPoP"
    assert login["body"]["access_token"] == "(kept in this page's memory, not shown)"
    assert str(page.find_element("id", "dpopStatus").text).endswith(f"tokens bound to key {key}")
    call = run(page, "dpop.call()")
    assert (call["status"], call["body"]["bound_to"]) == (200, key)
    assert "Accepted." in dpop_text(page)
    assert f"signed by key {key}" in dpop_text(page)
    return key


#: What the server answers a bound token sent without its proof.
NO_PROOF = (401, {"msg": "A DPoP-bound token must be presented with a DPoP proof"})


def replay_elsewhere(base: str, stolen: str, copied_proof: str) -> None:
    """A plain HTTP client holding the copied token (and a copied proof), not the key: 401s."""
    profile = f"{base}/dpop/profile"
    assert http("GET", profile, {"Authorization": f"Bearer {stolen}"})[:2] == NO_PROOF
    everywhere = f"{base}/dpop/logout/everywhere"
    assert http("POST", everywhere, {"Authorization": f"Bearer {stolen}"})[:2] == NO_PROOF, (
        "a copy cannot even log its owner out"
    )

    thief = new_key()
    other_key = dpop_call(profile, stolen, thief)
    assert other_key[:2] == (401, {"msg": "DPoP proof key does not match the token's 'cnf.jkt'"})

    headers = {"Authorization": f"DPoP {stolen}", "DPoP": copied_proof}
    replayed = http("GET", profile, headers)
    assert replayed[:2] == (401, {"msg": "DPoP proof has already been used"})
    elsewhere = http("GET", f"{base}/dpop/me", headers)
    assert elsewhere[:2] == (401, {"msg": "DPoP proof 'htu' does not match the request URL"})

    # The same client logged in with its own key is served: the refusals above
    # are the binding's, not a fault of the client or its proofs.
    url = f"{base}/dpop/login"
    alice = {"username": "alice", "password": "wonderland"}
    own = after_a_nonce(
        lambda nonce: http(
            "POST", url, {"DPoP": proof(thief, method="POST", url=url, nonce=nonce)}, alice
        )
    )
    assert own[0] == 200
    served = dpop_call(profile, own[1]["access_token"], thief)
    assert (served[0], served[1]["bound_to"]) == (200, jkt(thief))


def test_a_token_copied_out_of_the_browser_is_refused_elsewhere(
    page: Any, wire: list[tuple[str, str, str]]
) -> None:
    """Copied out of the page, a DPoP-bound token is refused from a plain HTTP client.

    As a bearer token, with a proof from another key, and with one of the
    page's own proofs replayed; meanwhile the page's own calls go through.
    """
    key = log_in_with_dpop(page)
    # What a script injected into the page could copy out: the token, and from
    # the wire the proof of that call (the key itself cannot be copied).
    stolen = page.execute_script("return demo.dpop.accessToken()")
    assert jwt.decode(stolen, options={"verify_signature": False})["cnf"] == {"jkt": key}
    method, path, copied_proof = wire[-1]
    assert (method, path) == ("GET", "/dpop/profile")

    replay_elsewhere(page.current_url.rstrip("/"), stolen, copied_proof)

    # The browser, which holds the key, carries on.
    assert run(page, "dpop.call()")["status"] == 200
    assert run(page, "dpop.bearer()")["status"] == 401
    assert "sent as a bearer token without a proof, is useless" in dpop_text(page)
    refreshed = run(page, "dpop.refresh()")
    assert (refreshed["status"], refreshed["boundTo"]) == (200, key), "rotation keeps the key"
    assert run(page, "dpop.call()")["status"] == 200
    assert_no_tokens_shown(page)
    viewport(page, 1280, 900, mobile=False)
    assert_fits(page, 1280)
    screenshot(page, "demo-dpop.png", 1280, mobile=False)
    viewport(page, 390, 844, mobile=True)
    assert_fits(page, 390)

    assert run(page, "dpop.logout()")["status"] == 200
    assert str(page.find_element("id", "dpopStatus").text) == "Not logged in with DPoP"
