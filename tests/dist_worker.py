"""In-process scenarios for tests/test_distributed_train.py, run under torchrun (or plain python).

The CLI cannot swap a model's noise or save what every rank holds, so these
scenarios drive ``ganzoo.Trainer`` directly.  Under torchrun the Trainer joins
the process group itself (``ganzoo.dist.setup``); with plain ``python`` the
same code is one process.  Each rank writes ``OUT.rank{r}.pt``.

Usage:
  python tests/dist_worker.py fixed-noise-step OUT [--steps S] [--optimizer adam|sgd]
  python tests/dist_worker.py train OUT --model NAME [--steps S] [--set KEY=INT ...]
      [--run DIR] [--log-every N]

``fixed-noise-step``: the ``gan`` model whose loss noise is the same global
draw on any number of processes (call k draws W*n rows from seed k, rank r
keeps rows [r*n, (r+1)*n)), so W processes with 1/W of the batch each must
compute what one process computes with the whole batch; it saves every
parameter (and the gradients of the last phase) after ``--steps`` steps.

``train``: plain training (the model's own noise, per-rank streams); every rank
saves its parameters, buffers and EMA shadow.  With ``--run`` the run
directory gets the checkpoints and ``metrics.jsonl``, and the last checkpoint
syncs the buffers (BatchNorm statistics) as a real run does.
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
    torch.manual_seed(0)
    model = build_model("gan", data.spec)
    shared_latents(model)
    if args.optimizer == "sgd":
        sgd_optimizers(model)
    options = TrainOptions(
        steps=args.steps, batch_size=64, device="cpu", quiet=True, log_every=args.steps
    )
    ganzoo.Trainer(model, data, options).fit()
    save(args.out, {"params": {n: p.detach().clone() for n, p in model.named_parameters()}})


def train(args: argparse.Namespace) -> None:
    data = load_dataset("mnist5k", "train")
    config = {k: int(v) for k, v in (item.split("=", 1) for item in args.set)}
    torch.manual_seed(0)
    model = build_model(args.model, data.spec, config)
    options = TrainOptions(
        steps=args.steps,
        batch_size=args.batch_size,
        device="cpu",
        quiet=True,
        log_every=args.log_every,
        checkpoint_every=args.steps,
        sample_every=args.steps,
        ema=args.ema,
    )
    trainer = ganzoo.Trainer(model, data, options, run_dir=args.run)
    trainer.fit()
    save(
        args.out,
        {
            "params": {n: p.detach().clone() for n, p in model.named_parameters()},
            "buffers": {n: b.detach().clone() for n, b in model.named_buffers()},
            "ema": {n: t.clone() for n, t in trainer.ema.shadow.items()} if trainer.ema else {},
        },
    )


def save(out: str, value: dict) -> None:
    world = ganzoo.dist.current()
    value["world"] = {"rank": world.rank, "size": world.size}
    torch.save(value, f"{out}.rank{world.rank}.pt")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="dist_worker")
    sub = parser.add_subparsers(dest="scenario", required=True)
    p = sub.add_parser("fixed-noise-step")
    p.add_argument("out")
    p.add_argument("--steps", type=int, default=1)
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    p.set_defaults(scenario_function=fixed_noise_step)
    p = sub.add_parser("train")
    p.add_argument("out")
    p.add_argument("--model", required=True)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--set", action="append", default=[], metavar="KEY=INT")
    p.add_argument("--run", default=None, help="run directory (checkpoints, metrics.jsonl)")
    p.add_argument("--log-every", type=int, default=1)
    p.add_argument("--ema", action="store_true", default=None)
    p.set_defaults(scenario_function=train)
    args = parser.parse_args(argv)
    args.scenario_function(args)


if __name__ == "__main__":
    main(sys.argv[1:])
