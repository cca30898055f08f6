"""The GPU numbers of docs/performance.md, as one table (run by scripts/gpu_check.sh).

Usage: python scripts/perf/gpu_table.py [--device cuda] [--quick]
Rows: each model's training steps/s (fp32 and --amp bfloat16, through the Trainer),
the Trainer against a hand-written loop of the same GAN, Inception images/s
(ganzoo's extractor and torch-fidelity's own network), the wall time of a
50,000-sample FID (inception-v3-compat, pretrained `gan`, against 10,000 real
images, reference cache cold), and 1-vs-N-process evaluation when N > 1 GPUs exist.
``--quick`` shrinks every size so the script can be checked on a CPU in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import torch
from torch import nn

import ganzoo
from ganzoo import plugins
from ganzoo.train.trainer import Trainer, TrainOptions


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def trainer_steps_per_s(name: str, data, device, warm: int, timed: int, amp: bool) -> float:
    torch.manual_seed(0)
    model = ganzoo.build_model(name, data.spec, {})
    options = TrainOptions(steps=warm, quiet=True, device=str(device), amp=amp, log_every=50)
    trainer = Trainer(model, data, options)
    trainer.fit()
    trainer.options.steps = warm + timed
    sync(device)
    start = time.perf_counter()
    trainer.fit()
    sync(device)
    return timed / (time.perf_counter() - start)


def plain_gan_steps_per_s(data, device, warm: int, timed: int, batch: int = 64) -> float:
    """The design document's GAN loop written by hand on ``device`` (data held there as uint8)."""
    torch.manual_seed(0)
    model = ganzoo.build_model("gan", data.spec, {}).to(device)
    G, D = model.G, model.D
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce, images = nn.BCELoss(), data.images.to(device)
    ones, zeros = torch.ones(batch, device=device), torch.zeros(batch, device=device)

    def step() -> None:
        index = torch.randint(len(images), (batch,), device=device)
        real = images[index].float().mul_(2 / 255).sub_(1)
        with torch.no_grad():
            fake = G(torch.randn(batch, 100, device=device))
        d_loss = bce(D(real), ones) + bce(D(fake), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(D(G(torch.randn(batch, 100, device=device))), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()

    for _ in range(warm):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(timed):
        step()
    sync(device)
    return timed / (time.perf_counter() - start)


def inception_images_per_s(device, n: int, batch: int) -> dict[str, float]:
    """ganzoo's extractor (folded batch norms, channels-last) and torch-fidelity's own."""
    from ganzoo_extractors.inception_fast import FastInceptionV3
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    from ganzoo.eval.extractors import get_extractor

    weights = get_extractor("inception-v3-compat").weights(None).path
    images = torch.randint(0, 256, (n, 3, 299, 299), dtype=torch.uint8, device=device)
    out = {}
    for label, cls in (
        ("ganzoo", FastInceptionV3),
        ("torch-fidelity", FeatureExtractorInceptionV3),
    ):
        net = cls("inception-v3-compat", ["2048"], feature_extractor_weights_path=weights)
        net = net.to(device).eval()
        with torch.inference_mode():
            net(images[:batch])
            sync(device)
            start = time.perf_counter()
            for i in range(0, n, batch):
                net(images[i : i + batch])
            sync(device)
        out[label] = n / (time.perf_counter() - start)
    return out


def reference_npz(folder: str, real: int) -> str:
    """``real`` images for the reference: mnist5k's 5,000 repeated (no larger real set is
    available offline), so the time is that of ``real`` images; the statistics are mnist5k's."""
    import numpy as np

    images = ganzoo.load_dataset("mnist5k", "all").images
    repeated = images.repeat((real + len(images) - 1) // len(images), 1, 1, 1)[:real]
    path = os.path.join(folder, "reference.npz")
    np.savez(path, images=repeated.permute(0, 2, 3, 1).numpy())
    return path


def fid_wall_s(device, samples: int, real: int) -> tuple[float, float]:
    """Seconds of a cold-cache FID of the pretrained ``gan``, and the FID."""
    before = os.environ.get("GANZOO_CACHE")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GANZOO_CACHE"] = cache
        reference = reference_npz(cache, real)
        start = time.perf_counter()
        result = ganzoo.evaluate(
            "gan-mnist5k", extractor="inception-v3-compat", metrics="fid", split="all",
            dataset=f"npz:{reference}", num_samples=samples, device=str(device),
        )  # fmt: skip
        seconds = time.perf_counter() - start
    if before is not None:
        os.environ["GANZOO_CACHE"] = before
    return seconds, result.metrics["frechet_inception_distance"]


def eval_processes(nproc: int, samples: int) -> list[tuple[int, float, float]]:
    """(processes, seconds, FID) of one evaluation command on 1 and on ``nproc`` GPUs, each
    with a cold reference cache of its own (start-up included: what a user waits for)."""
    rows = []
    for n in (1, nproc):
        cache = tempfile.mkdtemp(prefix="ganzoo-gpu-check-")
        command = [sys.executable, "-m", "ganzoo", "eval", "gan-mnist5k", "--extractor",
                   "inception-v3-compat", "--metrics", "fid", "--split", "all",
                   "--num-samples", str(samples), "--json", "--nproc", str(n)]  # fmt: skip
        start = time.perf_counter()
        env = {**os.environ, "GANZOO_CACHE": cache}
        done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
        fid = json.loads(done.stdout)["metrics"]["frechet_inception_distance"]
        rows.append((n, time.perf_counter() - start, fid))
    return rows


class Rows(list):
    """Each row printed as it is measured: a time limit cuts the table, not all of it."""

    def append(self, row: tuple[str, str]) -> None:
        super().append(row)
        print(f"| {row[0]:<48} | {row[1]} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script")
    args = parser.parse_args()
    device = torch.device(args.device)
    warm, timed = (2, 5) if args.quick else (20, 200)
    data = ganzoo.load_dataset("mnist5k", "train")
    rows = Rows()
    rows.append(("device", torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"))
    for name in sorted(plugins.registry("register_models")):
        fp32 = trainer_steps_per_s(name, data, device, warm, timed, amp=False)
        amp = trainer_steps_per_s(name, data, device, warm, timed, amp=True) \
            if device.type == "cuda" else float("nan")  # fmt: skip
        rows.append((f"train {name} steps/s (fp32 / amp bf16)", f"{fp32:.1f} / {amp:.1f}"))
    trainer = trainer_steps_per_s("gan", data, device, warm, timed, amp=False)
    plain = plain_gan_steps_per_s(data, device, warm, timed)
    rows.append(("gan: Trainer / plain loop steps/s", f"{trainer:.1f} / {plain:.1f} = "
                 f"{trainer / plain:.2f}x"))  # fmt: skip
    speed = inception_images_per_s(device, 16 if args.quick else 4096, 8 if args.quick else 128)
    rows.append(("Inception images/s (ganzoo / torch-fidelity)",
                 f"{speed['ganzoo']:.0f} / {speed['torch-fidelity']:.0f}"))  # fmt: skip
    samples, real = (40, 40) if args.quick else (50_000, 10_000)
    seconds, fid = fid_wall_s(device, samples, real)
    rows.append(
        (f"FID {samples} samples vs {real} real (cold cache)", f"{seconds:.0f} s, FID {fid:.3f}")
    )
    gpus = torch.cuda.device_count() if device.type == "cuda" else 1
    if gpus > 1:
        for n, seconds, fid in eval_processes(gpus, 10_000):
            rows.append((f"eval 10,000 samples on {n} GPU(s)", f"{seconds:.0f} s, FID {fid:.4f}"))


if __name__ == "__main__":
    main()
