"""The job state machine."""

from __future__ import annotations

import pytest

from services.jobs.states import IllegalTransition, JobState, can_transition, check_transition

S = JobState


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CREATED, S.QUEUED),
        (S.QUEUED, S.RUNNING),
        (S.QUEUED, S.SUCCEEDED),
        (S.RUNNING, S.SUCCEEDED),
        (S.RUNNING, S.FAILED),
        (S.QUEUED, S.CANCELED),
        (S.RUNNING, S.CANCELED),
    ],
)
def test_allowed(current: JobState, target: JobState) -> None:
    assert can_transition(current, target)
    check_transition(current, target)


@pytest.mark.parametrize("terminal", [S.SUCCEEDED, S.FAILED, S.CANCELED])
def test_terminal_states_are_final(terminal: JobState) -> None:
    assert terminal.terminal
    for target in JobState:
        assert not can_transition(terminal, target)
        with pytest.raises(IllegalTransition):
            check_transition(terminal, target)


def test_no_way_back() -> None:
    assert not can_transition(S.RUNNING, S.QUEUED)
    assert not can_transition(S.QUEUED, S.CREATED)
    assert not can_transition(S.RUNNING, S.RUNNING)
