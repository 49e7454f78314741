"""The mean of the weights over a run's last epochs (--average-epochs): weight averaging along the
run's own schedule, as in stochastic weight averaging (Izmailov et al. 2018).

Every step of the last K epochs adds the weights to an equal-weight running mean
(torch.optim.swa_utils.AveragedModel). The mean of points along the end of the descent
lies nearer the middle of the basin than the last point does. AlexNet has no batch norm,
so the mean needs no extra pass over the data to fix running statistics. Those epochs
validate the mean beside the weights themselves; averaged.pt holds it for //eval.
"""
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel


class WeightAverage:
    def __init__(self, model: nn.Module, average_epochs: int, total_epochs: int):
        self.first_epoch = total_epochs - average_epochs  # counted from 0, as the trainer's loop
        self.source = model  # the model itself, not its DDP or compiled wrapper
        self.averaged = AveragedModel(model)

    def covers(self, epoch: int) -> bool:
        return epoch >= self.first_epoch

    @torch.no_grad()
    def update(self) -> None:
        self.averaged.update_parameters(self.source)

    @property
    def model(self) -> nn.Module:
        return self.averaged.module

    def state_dict(self) -> dict:
        return {"first_epoch": self.first_epoch, "averaged": self.averaged.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        """The saved mean, unless it began at another epoch (a resume with more --epochs moved the
        window on): then the mean starts afresh from the resumed epoch."""
        if state["first_epoch"] == self.first_epoch:
            self.averaged.load_state_dict(state["averaged"])
