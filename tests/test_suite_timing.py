"""The suite's clocks: tests that freeze or move time leave pytest's own timing real.

``pytest --durations`` is how a slow test is found; a frozen clock that
leaked into it would report years, or the minutes a test moved its clock.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from _pytest import timing

FROZEN = datetime(2031, 5, 4, 12, 0, tzinfo=UTC)


def test_a_freezegun_clock_leaves_pytests_timing_real() -> None:
    """Frozen in 2031 and moved on by an hour, pytest still measures milliseconds."""
    freezegun = pytest.importorskip("freezegun")
    started = timing.Instant()
    with freezegun.freeze_time(FROZEN) as clock:
        assert time.time() == FROZEN.timestamp(), "the test's clock is frozen"
        clock.tick(timedelta(hours=1))
        elapsed = started.elapsed().seconds
    assert 0 <= elapsed < 60


def test_a_time_machine_clock_leaves_pytests_timing_real() -> None:
    """time-machine moves ``time.time``; pytest measures on ``perf_counter``."""
    time_machine = pytest.importorskip("time_machine")
    started = timing.Instant()
    with time_machine.travel(FROZEN, tick=False) as traveller:
        assert time.time() == FROZEN.timestamp(), "the test's clock is frozen"
        traveller.shift(timedelta(hours=1))
        elapsed = started.elapsed().seconds
    assert 0 <= elapsed < 60
