"""Command line: ``python -m <package> STEP [hydra overrides]``; STEP is one of describe,
embed, recall, train, rank, or ``all`` for the whole chain. ``-m`` before overrides
sweeps them (Hydra multirun), e.g. ``embed -m encoder=tfidf,mat2vec``."""

from __future__ import annotations

import sys
from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
ORDER = ("describe", "embed", "recall", "train", "rank")


def _run(step_names):
    def task(cfg):
        from .steps import STEPS, StepError

        try:
            for name in step_names:
                STEPS[name](cfg)
        except StepError as exc:
            print(f"error: {exc}", file=sys.stderr)
            sys.exit(2)

    return task


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    steps = "|".join((*ORDER, "all"))
    usage = f"usage: python -m {__package__} ({steps}) [overrides]"
    if not argv or argv[0] in ("-h", "--help"):
        print(usage + "\n" + (__doc__ or ""))
        sys.exit(0 if argv else 2)
    step = argv.pop(0)
    if step not in (*ORDER, "all"):
        print(f"error: unknown step {step!r}\n{usage}", file=sys.stderr)
        sys.exit(2)
    if not CONFIG_DIR.is_dir():
        print(f"error: configs not found at {CONFIG_DIR} (run from the project checkout)", file=sys.stderr)
        sys.exit(2)
    import hydra

    chain = ORDER if step == "all" else (step,)
    sys.argv = [f"{__package__}-{step}", *argv, f"hydra.job.name={step}"]
    hydra.main(config_path=str(CONFIG_DIR), config_name="config", version_base="1.3")(_run(chain))()


if __name__ == "__main__":
    main()
