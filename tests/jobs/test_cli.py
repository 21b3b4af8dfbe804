"""`vidkiln tokens`, run as an operator runs it."""

from __future__ import annotations

from pathlib import Path

from tests.auth.test_cli import vidkiln


def test_grant_adds_credits_and_balance_shows_them(tmp_path: Path) -> None:
    assert vidkiln(tmp_path, "accounts", "create", "--email", "ops@example.com").returncode == 0
    fresh = vidkiln(tmp_path, "tokens", "balance", "--account", "ops@example.com")
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.startswith("ops@example.com: available 600 (trial 600 until ")

    paid = vidkiln(tmp_path, "tokens", "grant", "--account", "ops@example.com", "--amount", "5000")
    assert paid.returncode == 0, paid.stderr
    assert "available 5600 (trial 600" in paid.stdout and "reserved 0" in paid.stdout
    trial = vidkiln(tmp_path, "tokens", "grant", "--account", "ops@example.com", "--amount", "100", "--trial-days", "7")
    assert "available 5700 (trial 700" in trial.stdout

    for bad in (
        ("--account", "nobody@example.com", "--amount", "5"),
        ("--account", "ops@example.com", "--amount", "0"),
    ):
        refused = vidkiln(tmp_path, "tokens", "grant", *bad)
        assert refused.returncode == 1 and refused.stdout == "" and refused.stderr.startswith("vidkiln: ")
