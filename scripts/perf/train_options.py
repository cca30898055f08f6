"""Steps/s of the Trainer with --compile and --channels-last against its defaults (CPU).

Usage: python scripts/perf/train_options.py compile|channels-last MODEL [MODEL ...]
compile: 50 warm-up steps (compilation included, reported), then 400 timed steps;
channels-last: 3 rounds of 20 warm-up and 300 timed steps.  docs/performance.md quotes it.
"""

from __future__ import annotations

import sys
import time

import torch

import ganzoo
from ganzoo.train.trainer import Trainer, TrainOptions


def steps_per_second(name: str, data, warm: int, timed: int, **option: bool) -> tuple[float, float]:
    torch.manual_seed(0)
    model = ganzoo.build_model(name, data.spec, {})
    trainer = Trainer(
        model, data, TrainOptions(steps=warm, batch_size=64, quiet=True, device="cpu", **option)
    )
    start = time.perf_counter()
    trainer.fit()
    warm_seconds = time.perf_counter() - start
    trainer.options.steps = warm + timed
    start = time.perf_counter()
    trainer.fit()
    return warm_seconds, timed / (time.perf_counter() - start)


def main() -> None:
    what, names = sys.argv[1], sys.argv[2:]
    field = {"compile": "compile", "channels-last": "channels_last"}[what]
    data = ganzoo.load_dataset("mnist5k", "train")
    rounds, warm, timed = (1, 50, 400) if what == "compile" else (3, 20, 300)
    for name in names:
        for on in (False, True):
            runs = [steps_per_second(name, data, warm, timed, **{field: on}) for _ in range(rounds)]
            rates = ", ".join(f"{rate:.1f}" for _, rate in runs)
            print(
                f"{name} {what}={on}: first {warm} steps {runs[0][0]:.1f} s, then {rates} steps/s"
            )


if __name__ == "__main__":
    main()
