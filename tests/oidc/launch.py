"""Start oidc-provider (``server.mjs`` beside this file) on loopback, and stop it.

One launcher for ``tests/test_oidc_provider.py`` and
``examples/resource_server/run.py``: the server prints its issuer URL once it
listens, and ends when its stdin closes; it is terminated (then killed) at
the end in any case, so no Node.js process outlives its user.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: How long the server may take to print its issuer.
START_TIMEOUT = 60


class ServerMissingError(RuntimeError):
    """Node.js or the ``oidc-provider`` package is not installed."""


@contextlib.contextmanager
def running(settings: Mapping[str, str]) -> Iterator[str]:
    """oidc-provider on an ephemeral port, configured by ``settings`` (its environment).

    Yields the issuer URL. Raises :class:`ServerMissingError` when it cannot
    run here, and ``RuntimeError`` when it does not start in time.
    """
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        raise ServerMissingError("oidc-provider is not installed: run `npm ci` in tests/oidc")
    process = subprocess.Popen(  # noqa: S603 - our own script, on loopback
        [node, "server.mjs"],
        cwd=HERE,
        env={**os.environ, **settings},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdin is not None
    try:
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT)
        if not ready:
            raise RuntimeError(f"oidc-provider did not start within {START_TIMEOUT} s")
        yield str(json.loads(process.stdout.readline())["issuer"])
    finally:
        process.stdin.close()
        process.terminate()  # it also ends on stdin's end; either way, now
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
