"""The load and fault test, bounded: bench/load.py --ci under real gunicorn, Redis and PostgreSQL.

It runs the same script as the full benchmark (one command), with a few
hundred requests per scenario; the script's own checks are the specification:
no 500s, revoked tokens refused by every worker and never accepted past the
staleness bound, Redis killed under load answered by 503s and recovered
without restarting the app, every soak request answered. No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytest.importorskip("gunicorn")
pytestmark = pytest.mark.slow


def test_bounded_load_and_fault_run(tmp_path: Path) -> None:
    figures = tmp_path / "load.json"
    completed = subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [sys.executable, str(ROOT / "bench" / "load.py"), "--ci", "--json", str(figures)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    results = json.loads(figures.read_text())
    assert results["failures"] == []
    scenarios = results["scenarios"]
    assert set(scenarios) == {
        "unprotected", "nostore", "redis", "postgresql",
        "redis+replica", "postgresql+replica", "flask-jwt-extended",
    }  # fmt: skip
    for name in ("redis+replica", "postgresql+replica"):
        assert scenarios[name]["propagation"]["late_accepts"] == 0
    outage = scenarios["redis+replica"]["outage"]
    assert "200" not in outage["revoked_token_during"]
    assert set(outage["past_the_bound"]) == {"503"}
    assert outage["recovery_s"] is not None
    assert outage["revoked_after_restart"] == {"401": 20}
    assert set(scenarios["redis+replica"]["soak"]["statuses"]) == {"200"}
