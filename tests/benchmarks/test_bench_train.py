"""The shared Trainer against a hand-written PyTorch loop of the same GAN, data and batch size.

Run: ``pytest tests/benchmarks/test_bench_train.py --benchmark-only --benchmark-columns=mean,stddev,rounds``.
Both loops train the design document's MLP GAN (the ``gan`` plugin's networks)
on mnist5k's train split held in memory, batch 64, for STEPS steps per round.
Under ``--benchmark-disable`` (how CI runs the suite) each loop runs once for
SMOKE_STEPS steps: a check that it still trains, not a measurement.
"""

from __future__ import annotations

import contextlib

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.train.trainer import Trainer, TrainOptions

STEPS = 300
SMOKE_STEPS = 3
BATCH = 64


@pytest.fixture(scope="module")
def steps(request) -> int:
    return SMOKE_STEPS if request.config.getoption("benchmark_disable") else STEPS


@pytest.fixture(scope="module")
def data():
    return ganzoo.load_dataset("mnist5k", "train")


def fresh_gan(spec):
    torch.manual_seed(0)
    cls = ganzoo.model_class("gan")
    return cls(cls.Config(), spec)


def plain_loop(model, data, steps: int, fake_without_graph: bool = False) -> None:
    """What one writes by hand: shuffle, slice, D step, G step (non-saturating BCE).

    As in the design document, D's fakes are ``G(z).detach()``, which records G's graph
    only to drop it; ``fake_without_graph`` draws them under ``torch.no_grad()`` instead,
    as the ``gan`` plugin does, so that the trainer's own cost can be told apart.
    """
    G, D = model.G, model.D
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    images = data.images
    order, cursor = torch.randperm(len(images)), 0
    for _ in range(steps):
        if cursor + BATCH > len(images):
            order, cursor = torch.randperm(len(images)), 0
        real = images[order[cursor : cursor + BATCH]].float().mul_(2 / 255).sub_(1)
        cursor += BATCH
        ones, zeros = torch.ones(BATCH), torch.zeros(BATCH)

        with torch.no_grad() if fake_without_graph else contextlib.nullcontext():
            fake = G(torch.randn(BATCH, 100)).detach()
        d_loss = bce(D(real), ones) + bce(D(fake), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()

        g_loss = bce(D(G(torch.randn(BATCH, 100))), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()


def plain_loop_same_arithmetic(model, data, steps: int) -> None:
    plain_loop(model, data, steps, fake_without_graph=True)


def through_trainer(model, data, steps: int, fused: bool = False) -> None:
    options = TrainOptions(
        steps=steps, batch_size=BATCH, device="cpu", quiet=True, log_every=50, fused=fused
    )
    Trainer(model, data, options).fit()


def through_trainer_fused(model, data, steps: int) -> None:
    """The trainer's default: the model's Adam rebuilt with fused=True."""
    through_trainer(model, data, steps, fused=True)


@pytest.mark.benchmark(group="train-gan-cpu")
@pytest.mark.parametrize(
    "loop",
    [plain_loop, plain_loop_same_arithmetic, through_trainer, through_trainer_fused],
    ids=[
        "plain-loop",
        "plain-loop-no-grad-fakes",
        "ganzoo-trainer-unfused",
        "ganzoo-trainer-fused",
    ],
)
def test_gan_training_speed(benchmark, data, loop, steps):
    models = []

    def setup():  # outside the timed part: a fresh model, and G's weights before training
        model = fresh_gan(data.spec)
        models.append((model, {k: v.clone() for k, v in model.G.state_dict().items()}))
        return (models[-1][0], data, steps), {}

    benchmark.pedantic(loop, setup=setup, rounds=5, iterations=1, warmup_rounds=1)
    for model, before in models:  # every round trained: each tensor of G moved
        after = model.G.state_dict()
        assert all(not torch.equal(before[k], after[k]) for k in before)
    benchmark.extra_info["steps_per_round"] = steps
    benchmark.extra_info["threads"] = torch.get_num_threads()
