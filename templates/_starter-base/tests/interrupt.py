"""A run stopped by SIGTERM, as a scheduler's time limit or ``kill`` stops one, and resumed
with the command it printed: for both starters' tests of it."""

import os
import shlex
import signal
import sys

import lightning as L
import pytest

STOP_AFTER_THE_FIRST_EPOCH = "+callbacks.sigterm._target_=interrupt.SigtermAfterTheFirstEpoch"


class SigtermAfterTheFirstEpoch(L.Callback):
    """SIGTERM to this process, once, after epoch 0 (a resumed run goes on)."""

    def on_train_epoch_end(self, trainer, pl_module):
        if trainer.current_epoch == 0:
            os.kill(os.getpid(), signal.SIGTERM)


def stop_then_resume(main, overrides, package, tmp_path, monkeypatch, capsys) -> None:
    """``python -m PACKAGE.train OVERRIDES`` in this process, stopped after epoch 0: exit
    status 143, one line and no results; then the command that line gives, as pasted."""
    monkeypatch.setattr(sys, "argv", ["train", *overrides, STOP_AFTER_THE_FIRST_EPOCH])
    with pytest.raises(SystemExit) as exit_status:
        main()
    assert exit_status.value.code == 143  # 128 + SIGTERM, as a shell reports a killed command
    err = capsys.readouterr().err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]
    assert line.startswith("error: training stopped by SIGTERM; its last finished epoch is in ")
    assert not list(tmp_path.rglob("metrics.json"))  # no results from a run that did not finish
    pasted = shlex.split(line.split("resume it with: ", 1)[1])
    assert pasted[:3] == ["python", "-m", f"{package}.train"]
    monkeypatch.setattr(sys, "argv", ["train", *pasted[3:]])
    main()
