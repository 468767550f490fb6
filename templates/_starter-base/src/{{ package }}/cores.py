"""How many threads one process may use without fighting the rest of the machine."""

from __future__ import annotations

import os

# Small networks stop gaining from threads early, and each thread beyond the cores a
# process really has spins against the others: on a shared 2-core laptop torch's own
# default (every core) made a run take minutes where one thread took seconds.
MAX_DEFAULT_THREADS = 4


def available_cores() -> int:
    """The cores this process may run on: its CPU affinity, capped by a cgroup quota
    (containers, SLURM), not the machine's total that os.cpu_count() reports."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max", encoding="ascii") as fh:
            quota, period = fh.read().split()
        if quota != "max":
            cores = min(cores, max(1, int(quota) // int(period)))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def default_threads(processes: int = 1) -> int:
    """Threads for each of ``processes`` processes sharing this machine: half the cores
    each may have (the rest is for data loading and the system), at least one."""
    return max(1, min(MAX_DEFAULT_THREADS, available_cores() // (2 * max(1, processes))))


def set_up_torch(threads: int | None = None) -> int:
    """Torch's intra-op threads (``None``: ``default_threads()``), and subnormal floats
    flushed to zero. Over a long run Adam's second moments and the gradients of small
    weights sink into the subnormal range, where every CPU operation on them is many
    times slower: a full-model epoch went from 6.6 s to 12-21 s between its first and
    its 50th epoch. Flushing them changes no result beyond float rounding."""
    import torch

    threads = int(threads or default_threads())
    torch.set_num_threads(threads)
    torch.set_flush_denormal(True)
    return threads
