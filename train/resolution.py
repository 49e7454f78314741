"""Progressive resizing: the side of the training crops, epoch by epoch.

A schedule is written "EPOCH:SIDE,...", epochs counted from 1 as the trainer prints
them: "1:128,9:176,14:224" trains epochs 1-8 at 128 px, 9-13 at 176 and the rest at 224.
Low resolution early costs a fraction of the compute (a 112-px epoch counts a quarter
of a 224-px one: see epoch_equivalents); validation and evaluation stay at 224.
"""
from data.augment import CROP
from model.alexnet import MIN_INPUT_SIZE

Schedule = list[tuple[int, int]]  # (first epoch, counted from 1; crop side in pixels)


class ScheduleError(ValueError):
    pass


def parse(text: str) -> Schedule:
    """The schedule in text, checked; "" is 224 px throughout."""
    if not text.strip():
        return [(1, CROP)]
    schedule = []
    for part in text.split(","):
        try:
            epoch, side = (int(field) for field in part.split(":"))
        except ValueError:
            raise ScheduleError(f"{part.strip()!r} is not EPOCH:SIDE (for example 1:128,9:176,14:224)") from None
        if not MIN_INPUT_SIZE <= side <= CROP:
            raise ScheduleError(f"crop side {side} in {part.strip()!r} is outside {MIN_INPUT_SIZE}..{CROP}")
        schedule.append((epoch, side))
    epochs = [epoch for epoch, _ in schedule]
    if epochs[0] != 1:
        raise ScheduleError(f"the schedule must start at epoch 1, not {epochs[0]}")
    if epochs != sorted(set(epochs)):
        raise ScheduleError(f"the schedule's epochs must increase: {text}")
    return schedule


def side_at(schedule: Schedule, epoch: int) -> int:
    """The crop side for epoch (counted from 0, as the trainer's loop does)."""
    return [side for first, side in schedule if first <= epoch + 1][-1]


def epoch_equivalents(schedule: Schedule, epochs: int) -> float:
    """Compute of the first `epochs` epochs in 224-px epochs: the sum of (side / 224)^2."""
    return sum((side_at(schedule, epoch) / CROP) ** 2 for epoch in range(epochs))
