"""All five steps in order, in one process, with one config: describe, embed, recall,
train, rank. Each still reads what the one before it wrote.

    python -m <package>.pipeline experiment=thermoelectric
"""

from __future__ import annotations

from . import describe, embed, rank, recall, train
from .entry import step_main

STEPS = (describe, embed, recall, train, rank)


def run(cfg) -> None:
    for step in STEPS:
        step.run(cfg)


main = step_main(run)

if __name__ == "__main__":
    main()
