"""Lightning callbacks of this project (configs/callbacks/ builds them)."""

from __future__ import annotations

import logging
import time

import lightning as L

log = logging.getLogger(__name__)


class EpochTimer(L.Callback):
    """Wall time of each training epoch; train.py reports the median."""

    def __init__(self):
        self.durations: list[float] = []
        self._start = None

    def on_train_epoch_start(self, trainer, pl_module):
        self._start = time.perf_counter()

    def on_train_epoch_end(self, trainer, pl_module):
        if self._start is None:
            return
        self.durations.append(time.perf_counter() - self._start)
        loss = trainer.callback_metrics.get("train/loss")
        if trainer.is_global_zero:
            log.info("epoch %d: %.1f s, train loss %s", trainer.current_epoch, self.durations[-1],
                     "n/a" if loss is None else f"{float(loss):.4f}")
