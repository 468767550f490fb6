"""Time the starter projects' checkpoint writer against Lightning's own.

Renders ``yield-model`` with this checkout, builds a checkpoint the size of the full
model's (its weights and AdamW's two moments: about 52 MB), and saves it with Lightning's
``TorchCheckpointIO`` and with the project's ``AtomicCheckpointIO`` in interleaved
rounds, each save in a fresh process so that its peak memory is its own:

    python benchmarks/checkpoint_write_bench.py --rounds 7

Prints the median wall time of one save and the median peak resident memory of the
process beyond the checkpoint already in memory, and the ratios from the same rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "ckpt_bench"

# one save in a fresh process: (seconds, peak RSS before the save, after it) in KiB
ONE_SAVE = """
import json, resource, sys, time
import torch
from lightning.fabric.plugins import TorchCheckpointIO
from ckpt_bench.checkpoints import AtomicCheckpointIO

writer, target, parameters = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.manual_seed(0)
weights = torch.randn(parameters)
checkpoint = {"state_dict": {"w": weights}, "optimizer_states": [{"exp_avg": weights.clone(), "exp_avg_sq": weights.clone()}]}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
io = {"lightning": TorchCheckpointIO, "atomic": AtomicCheckpointIO}[writer]()
start = time.perf_counter()
io.save_checkpoint(checkpoint, target)
seconds = time.perf_counter() - start
print(json.dumps([seconds, before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss]))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--parameters", type=int, default=4_391_000, help="the full model's parameter count")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ckpt-bench-") as tmp:
        tmp = Path(tmp)
        subprocess.run([sys.executable, "-m", "labhooks.cli", "new-project", "yield-model", str(tmp / "project"),
                        "--name", PACKAGE], check=True, capture_output=True, cwd=REPO)
        env = dict(os.environ, PYTHONPATH=str(tmp / "project" / "src"), OMP_NUM_THREADS="1")
        results: dict = {"lightning": [], "atomic": []}
        for round_no in range(args.rounds):
            for writer in results:
                target = tmp / "checkpoints" / f"{writer}-{round_no}.ckpt"
                out = subprocess.run([sys.executable, "-c", ONE_SAVE, writer, str(target), str(args.parameters)],
                                     check=True, capture_output=True, text=True, env=env).stdout
                seconds, before, after = json.loads(out.strip().splitlines()[-1])
                results[writer].append((seconds, (after - before) / 1024, target.stat().st_size / 1e6))
                target.unlink()
    size = results["atomic"][0][2]
    print(f"{args.rounds} interleaved rounds, a {size:.1f} MB checkpoint, one save per fresh process; "
          f"load average {os.getloadavg()[0]:.1f}")
    for writer, rows in results.items():
        print(f"{writer:9} save {statistics.median(r[0] for r in rows):.3f} s   "
              f"peak memory beyond the checkpoint {statistics.median(r[1] for r in rows):6.1f} MiB")
    ratios = [a[0] / b[0] for a, b in zip(results["atomic"], results["lightning"])]
    print(f"atomic / lightning time: median {statistics.median(ratios):.2f} "
          f"(per round {', '.join(f'{r:.2f}' for r in ratios)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
