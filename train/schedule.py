"""The learning rate of every training step: a linear warm-up, then the run's schedule.

plateau (the paper's): divide by 10 when the validation error has not improved for
`patience` epochs; step: divide by 10 every 30 epochs; cosine: half a cosine from the
learning rate to 0 over the run; linear: a straight line to 0 at the last step. Epoch
schedules count the epochs from the last warm-up epoch on, so the learning rate reaches
its full value at the end of the warm-up and holds it for the next epoch.
"""
import math

from train.config import TrainConfig

PLATEAU_THRESHOLD = 1e-4  # a relative improvement smaller than this is no improvement (as in torch)


def divided_by_10(lr: float, times: int) -> float:
    for _ in range(times):  # one multiplication at a time, as torch's schedulers round
        lr *= 0.1
    return lr


class LearningRate:
    def __init__(self, config: TrainConfig, steps_per_epoch: int):
        self.lr, self.schedule, self.patience = config.lr, config.schedule, config.patience
        self.epochs, self.warmup_epochs, self.steps_per_epoch = config.epochs, config.warmup_epochs, steps_per_epoch
        self.best_error, self.bad_epochs, self.drops = math.inf, 0, 0  # plateau

    def at(self, step: int) -> float:
        """The learning rate of step (counted from 0 over the whole run)."""
        warmup = self.warmup_epochs * self.steps_per_epoch
        if step < warmup:
            return self.lr * (step + 1) / warmup
        if self.schedule == "linear":
            total = self.epochs * self.steps_per_epoch
            return self.lr * max(total - step, 0) / (total - warmup)
        if self.schedule == "plateau":
            return divided_by_10(self.lr, self.drops)
        epochs = max(0, step // self.steps_per_epoch - max(self.warmup_epochs - 1, 0))  # epochs since the warm-up
        if self.schedule == "step":
            return divided_by_10(self.lr, epochs // 30)
        return self.lr * (1 + math.cos(math.pi * epochs / self.epochs)) / 2  # cosine

    def end_epoch(self, epoch: int, val_error: float) -> None:
        """The plateau schedule's watch on the validation error, from the last warm-up epoch on."""
        if self.schedule != "plateau" or epoch + 1 < self.warmup_epochs:
            return
        if val_error < self.best_error * (1 - PLATEAU_THRESHOLD):
            self.best_error, self.bad_epochs = val_error, 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            self.drops, self.bad_epochs = self.drops + 1, 0

    def state_dict(self) -> dict:
        return {"best_error": self.best_error, "bad_epochs": self.bad_epochs, "drops": self.drops}

    def load_state_dict(self, state: dict) -> None:
        self.best_error, self.bad_epochs, self.drops = state["best_error"], state["bad_epochs"], state["drops"]

    def load_torch_scheduler(self, state: dict) -> None:
        """A checkpoint written when torch's schedulers set the learning rate: only the plateau's
        ReduceLROnPlateau held state (its best error, bad epochs, and the rate it had reached)."""
        if self.schedule == "plateau" and "num_bad_epochs" in state:
            self.best_error, self.bad_epochs = state["best"], state["num_bad_epochs"]
            self.drops = round(math.log10(self.lr / state["_last_lr"][0]))
