"""In-process scenarios for tests/test_distributed_train.py, run under torchrun (or plain python).

The CLI cannot swap a model's noise or save what every rank holds, so these
scenarios drive ``ganzoo.Trainer`` directly.  Under torchrun the Trainer joins
the process group itself (``ganzoo.dist.setup``); with plain ``python`` the
same code is one process.  Each rank writes its own file (``.rank{r}.pt``), with
``world`` = its rank and the number of processes.

Usage:
  python tests/dist_worker.py fixed-noise-step OUT [--steps S] [--optimizer adam,sgd]
  python tests/dist_worker.py train DIR --model NAME[:STEPS] ... [--runs] [--ema]

``fixed-noise-step``: the ``gan`` model (seed 0) whose loss noise is the same
global draw on any number of processes (its k-th ``latents`` call draws W*n
rows from seed k and rank r keeps rows [r*n, (r+1)*n)), so W processes with
1/W of the batch each must compute what one process computes with the whole
batch.  For each optimizer named (the model's Adam, or SGD with lr 0.1 put in
by overriding ``configure_optimizers``) it trains ``--steps`` steps from the
same weights; ``OUT.rank{r}.pt`` maps the optimizer to every parameter (and
``init`` to the weights before training).

``train``: each model (built with seed 0) trains STEPS steps with its own
noise (per-rank streams); ``DIR/train.rank{r}.pt`` maps the model to this
rank's parameters, buffers and EMA shadow.  With ``--runs`` each trains into
``DIR/NAME-run`` (checkpoints, ``metrics.jsonl`` logged every step): the last
checkpoint averages the buffers (BatchNorm statistics) over the ranks, as a
real run does; without a run directory nothing does.
"""

from __future__ import annotations

import argparse
import os
import sys
import types

os.environ.setdefault("GANZOO_LOAD_PLUGINS", "ganzoo")

import torch  # noqa: E402

import ganzoo  # noqa: E402
import ganzoo.dist  # noqa: E402
from ganzoo.data.registry import load_dataset  # noqa: E402
from ganzoo.model import build_model  # noqa: E402
from ganzoo.train.options import TrainOptions  # noqa: E402


def shared_latents(model) -> None:
    """``model.latents``: the k-th call's n rows are rank r's slice of W*n rows from seed k."""
    calls = iter(range(1_000_000))

    def latents(self, n: int, device: torch.device) -> torch.Tensor:
        world = ganzoo.dist.current()
        g = torch.Generator().manual_seed(next(calls))
        rows = torch.randn(world.size * n, self.latent_dim, generator=g)
        return rows[world.rank * n : (world.rank + 1) * n].to(device)

    model.latents = types.MethodType(latents, model)


def sgd_optimizers(model) -> None:
    """Plain SGD (update = lr * gradient): a gradient difference shows up unamplified."""

    def configure_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {
            "G": torch.optim.SGD(self.G.parameters(), lr=0.1),
            "D": torch.optim.SGD(self.D.parameters(), lr=0.1),
        }

    model.configure_optimizers = types.MethodType(configure_optimizers, model)


def fixed_noise_step(args: argparse.Namespace) -> None:
    data = load_dataset("mnist5k", "train")
    result = {}
    for optimizer in args.optimizer.split(","):
        torch.manual_seed(0)
        model = build_model("gan", data.spec)
        result.setdefault("init", {n: p.detach().clone() for n, p in model.named_parameters()})
        shared_latents(model)
        if optimizer == "sgd":
            sgd_optimizers(model)
        options = TrainOptions(
            steps=args.steps, batch_size=64, device="cpu", quiet=True, log_every=args.steps
        )
        ganzoo.Trainer(model, data, options).fit()
        result[optimizer] = {n: p.detach().clone() for n, p in model.named_parameters()}
    save(args.out, result)


def train(args: argparse.Namespace) -> None:
    data = load_dataset("mnist5k", "train")
    result = {}
    for item in args.model:
        name, _, steps = item.partition(":")
        steps = int(steps or 30)
        torch.manual_seed(0)
        model = build_model(name, data.spec)
        options = TrainOptions(
            steps=steps,
            batch_size=args.batch_size,
            seed=args.seed,
            device=args.device,
            sync_bn=args.sync_bn,
            quiet=True,
            log_every=args.log_every,
            checkpoint_every=steps,
            sample_every=steps,
            ema=args.ema,
        )
        run_dir = os.path.join(args.out, f"{name}-run") if args.runs else None
        trainer = ganzoo.Trainer(model, data, options, run_dir=run_dir)
        trainer.fit()
        ema = trainer.ema.shadow if trainer.ema is not None else {}
        result[name] = {
            "params": {n: p.detach().cpu().clone() for n, p in model.named_parameters()},
            "buffers": {n: b.detach().cpu().clone() for n, b in model.named_buffers()},
            "ema": {n: t.detach().cpu().clone() for n, t in ema.items()},
        }
    save(os.path.join(args.out, "train"), result)


def save(out: str, value: dict) -> None:
    world = ganzoo.dist.current()
    value["world"] = {"rank": world.rank, "size": world.size}
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    torch.save(value, f"{out}.rank{world.rank}.pt")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="dist_worker")
    sub = parser.add_subparsers(dest="scenario", required=True)
    p = sub.add_parser("fixed-noise-step")
    p.add_argument("out")
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--optimizer", default="adam", help="adam, sgd or both: adam,sgd")
    p.set_defaults(scenario_function=fixed_noise_step)
    p = sub.add_parser("train")
    p.add_argument("out", help="folder: train.rank{r}.pt and, with --runs, NAME-run/")
    p.add_argument("--model", action="append", required=True, metavar="NAME[:STEPS]")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0, help="data order and noise (weights: seed 0)")
    p.add_argument("--runs", action="store_true", help="train into run directories")
    p.add_argument("--log-every", type=int, default=1)
    p.add_argument("--ema", action="store_true", default=None)
    p.add_argument("--device", default="cpu", help="cpu, or cuda: each rank on cuda:LOCAL_RANK")
    p.add_argument("--sync-bn", action="store_true", help="SyncBatchNorm (CUDA only)")
    p.set_defaults(scenario_function=train)
    args = parser.parse_args(argv)
    args.scenario_function(args)


if __name__ == "__main__":
    main(sys.argv[1:])
