"""The services' state machines share one lookup: each is a table of (status, step) -> status, and a step the
table lacks is refused in one form, naming the status and the steps it allows, so that a caller given a 409 knows
what it may do instead."""

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

Status = TypeVar("Status", bound=StrEnum)
Step = TypeVar("Step", bound=StrEnum)


def allowed_steps(moves: Mapping[tuple[Status, Step], Status], status: Status) -> list[Step]:
    """The steps `status` allows, in the table's order."""
    return [step for (source, step) in moves if source == status]


def next_status(
    moves: Mapping[tuple[Status, Step], Status],
    status: Status,
    step: Step,
    *,
    subject: str,
    refuse: type[Exception],
) -> Status:
    """Where `step` takes a `subject` in `status`; else `refuse`, naming the status and what it allows."""
    if (status, step) in moves:
        return moves[status, step]
    allowed = allowed_steps(moves, status)
    choices = f"allowed from {status}: {', '.join(allowed)}" if allowed else f"{status} is final"
    article = "an" if status[0] in "aeiou" else "a"
    raise refuse(f"{article} {status} {subject} cannot {step}; {choices}")
