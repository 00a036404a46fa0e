"""The runnable examples do what the README says."""

from __future__ import annotations

import pytest

from examples.two_services import run


def test_two_services_walkthrough_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main() == 0
    output = capsys.readouterr().out
    assert "all steps passed" in output
    assert "[FAIL]" not in output
    assert "new key, fetched on its unknown kid: 200" in output


@pytest.mark.slow  # starts oidc-provider on Node.js
def test_resource_server_walkthrough_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """A client finds the authorization server from a 401 and uses bearer and DPoP tokens."""
    from examples.resource_server import run as resource_server_run

    assert resource_server_run.main() == 0
    output = capsys.readouterr().out
    assert "all steps passed" in output
    assert "[FAIL]" not in output
    assert "the same proof again: 401" in output
