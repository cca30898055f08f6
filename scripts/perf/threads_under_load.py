"""Training steps/s with torch's default threads and with --threads 1, idle and beside a busy job.

Usage: python scripts/perf/threads_under_load.py [MODEL] [STEPS]
(docs/performance.md, "A machine shared with other jobs").  The busy job is one
process spinning on one core, as another user's job would.  Each row trains a
fresh model from the same seed; the final weights' hash shows whether the
thread count changed the numbers.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import torch

import ganzoo
from ganzoo.train.trainer import Trainer, TrainOptions

SPIN = "import time\nend = time.time() + 3600\nwhile time.time() < end: pass\n"


def steps_per_s(name: str, steps: int, threads: int | None) -> tuple[float, str]:
    data = ganzoo.load_dataset("mnist5k", "train")
    torch.manual_seed(0)
    model = ganzoo.build_model(name, data.spec, {})
    trainer = Trainer(model, data, TrainOptions(steps=10, quiet=True, threads=threads))
    trainer.fit()  # warm-up
    trainer.options.steps = 10 + steps
    start = time.perf_counter()
    trainer.fit()
    rate = steps / (time.perf_counter() - start)
    digest = hashlib.sha256()
    for tensor in model.state_dict().values():
        digest.update(tensor.numpy().tobytes())
    return rate, digest.hexdigest()[:12]


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else "dcgan"
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    print(f"| {name}: CPU | threads | steps/s | weights after {steps} steps |")
    print("| --- | --- | --- | --- |")
    for busy in (False, True):
        spinner = subprocess.Popen([sys.executable, "-c", SPIN]) if busy else None
        try:
            for threads in (None, 1):
                rate, digest = steps_per_s(name, steps, threads)
                shown = f"default ({torch.get_num_threads()})" if threads is None else threads
                state = "one busy process beside" if busy else "idle"
                print(f"| {state} | {shown} | {rate:.1f} | {digest} |", flush=True)
        finally:
            if spinner is not None:
                spinner.kill()
                spinner.wait()


if __name__ == "__main__":
    main()
