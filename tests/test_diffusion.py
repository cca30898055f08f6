"""The ``ddpm`` model: schedules, samplers, sampling-time settings and what evaluations record.

Networks are kept tiny (8 channels) so every test trains and samples in
seconds; the samplers are checked against an oracle that knows the clean
image, where both must give it back exactly, whatever the number of steps.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from ganzoo_diffusion.schedule import alpha_bars, kept_timesteps, sample

import ganzoo
import ganzoo.testing
from ganzoo.cli import cli
from ganzoo.leaderboard.refresh import pending, score_and_rebuild

TINY = {"base_channels": 8, "attention_heads": 2, "sample_steps": 2}
SPEC = ganzoo.DatasetSpec(1, 28, 28, 10)


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ddpm") / "run"
    sets = [f"--set={k}={v}" for k, v in TINY.items()]
    result = invoke("train", "--model", "ddpm", *sets, "--steps", "3", "-q", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_ddpm_conforms():
    ganzoo.testing.check_model("ddpm", config=TINY)


def test_the_conditional_ddpm_with_guidance_conforms():
    config = {**TINY, "conditional": True, "guidance_scale": 3.0}
    ganzoo.testing.check_model("ddpm", config=config)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 28, 28), (1, 32, 32), (3, 32, 32)])
def test_builds_for_mnist_and_cifar_shapes(shape):
    torch.manual_seed(0)
    model = ganzoo.build_model("ddpm", ganzoo.DatasetSpec(*shape, 10), TINY)
    x = ganzoo.draw_samples(model, 2, torch.Generator().manual_seed(0))
    assert tuple(x.shape) == (2, *shape)


@pytest.mark.parametrize("shape", [(1, 64, 64), (2, 28, 28), (1, 28, 32), (3, 8, 8)])
def test_other_shapes_are_refused_in_one_line(shape):
    with pytest.raises(ganzoo.SpecError, match="28x28 and 32x32") as caught:
        ganzoo.build_model("ddpm", ganzoo.DatasetSpec(*shape))
    assert "\n" not in str(caught.value)


def test_the_schedules():
    linear, cosine = alpha_bars("linear", 1000), alpha_bars("cosine", 1000)
    assert 1 - linear[0] == pytest.approx(1e-4) and linear[-1] < 1e-4  # Ho et al.'s betas
    for bars in (linear, cosine):
        assert torch.all(bars[1:] < bars[:-1]) and bars[0] < 1 and bars[-1] > 0
    assert cosine[500] > linear[500]  # the cosine schedule destroys information more slowly
    assert kept_timesteps(1000, 1000) == list(range(999, -1, -1))
    steps = kept_timesteps(1000, 50)
    assert len(steps) == 50 and steps[0] == 999 and steps[-1] == 0


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
@pytest.mark.parametrize("steps", [1, 7, 1000])
def test_an_oracle_denoiser_is_sampled_back_to_its_image(sampler, steps):
    """Predicting the true noise of x_t for a known x_0: both samplers must land on x_0."""
    bars = alpha_bars("linear", 1000)
    x0 = ganzoo.load_dataset("mnist5k", "test").to_float(
        ganzoo.load_dataset("mnist5k", "test").images[:4]
    )

    def oracle(x, t):
        ab = bars[t].float().view(-1, 1, 1, 1)
        return (x - ab.sqrt() * x0) / (1 - ab).sqrt()

    out = sample(
        oracle, bars, tuple(x0.shape), steps, sampler, torch.Generator().manual_seed(0), "cpu"
    )
    # Float32 noise divided by sqrt(alpha_bar) ~ 0.006 at t = 999 costs ~1e-4; a wrong step costs ~1.
    assert torch.allclose(out, x0, atol=1e-3)


def test_ddim_is_deterministic_and_ddpm_draws_fresh_noise_each_step():
    torch.manual_seed(0)
    model = ganzoo.build_model("ddpm", SPEC, {**TINY, "sample_steps": 4})
    draws = {}
    for sampler in ("ddim", "ddpm"):
        model.config.sampler = sampler
        a, b = (ganzoo.draw_samples(model, 3, torch.Generator().manual_seed(s)) for s in (1, 1))
        assert torch.equal(a, b)  # the generator is the only source of randomness
        draws[sampler] = a
    assert not torch.equal(draws["ddim"], draws["ddpm"])


def test_bits_per_dim_is_absent_not_zero(run):
    result = ganzoo.evaluate(run, metrics="fid", num_samples=20, write=False)
    assert result.bits_per_dim is None and result.protocol["bits_per_dim_split"] is None


def test_nfe_counts_steps_and_doubles_with_guidance():
    torch.manual_seed(0)
    plain = ganzoo.build_model("ddpm", SPEC, {**TINY, "sample_steps": 10})
    guided = ganzoo.build_model(
        "ddpm", SPEC, {**TINY, "sample_steps": 10, "conditional": True, "guidance_scale": 2.0}
    )
    assert plain.nfe() == 10 and guided.nfe() == 20
    guided.config.guidance_scale = 1.0
    assert guided.nfe() == 10


def test_the_sampler_is_chosen_when_sampling(run, tmp_path):
    out = tmp_path / "samples.npz"
    sets = ("--set", "sampler=ddpm", "--set", "sample_steps=3")
    result = invoke("sample", run, "--n", "5", *sets, "--out", out)
    assert result.exit_code == 0, result.output
    assert np.load(out)["images"].shape == (5, 28, 28, 1)
    refused = invoke("sample", run, "--set", "lr=0.1", "--out", tmp_path / "x.png")
    assert refused.exit_code == 1 and "only sampler, sample_steps, guidance_scale" in refused.output
    stored = json.loads((run / "run.json").read_text())["hyperparameters"]
    assert stored["sampler"] == "ddim" and stored["sample_steps"] == 2  # the run is untouched


def test_a_10_and_a_20_step_score_are_two_results_ranked_in_one_table(run, tmp_path):
    common = {"metrics": "fid,ifid,classes", "num_samples": 20}
    ten = ganzoo.evaluate(run, sampling={"sample_steps": 10}, **common)
    twenty = ganzoo.evaluate(run, sampling={"sample_steps": 20}, **common)
    assert ten.protocol["generated"]["sampling"]["nfe"] == 10
    assert twenty.protocol["generated"]["sampling"]["nfe"] == 20
    assert twenty.protocol["generated"]["sampling"]["settings"]["sample_steps"] == 20
    assert ten.protocol["checkpoint"] == {"step": 3, "ema": True}  # EMA is on by default
    # How the model sampled is the row's, not the protocol's: one comparable protocol ...
    assert ten.protocol_id == twenty.protocol_id
    # ... but two result files: a score under other settings never replaces another.
    assert ten.path != twenty.path and ten.path.is_file() and twenty.path.is_file()
    again = ganzoo.evaluate(run, sampling={"sample_steps": 10}, **common)
    assert again.path == ten.path and len(list((run / "eval").glob("*.json"))) == 2
    asked = ganzoo.EvalRequest(**common, sampling=("sample_steps=10",))
    board = score_and_rebuild([run], asked, tmp_path / "lb", echo=lambda s: None)[0]
    assert len(board.protocols) == 1  # ranked together
    table = board.table(ten.protocol_id)  # the final view: a row per sampling setting
    assert sorted(table["nfe"]) == [10, 20] and table["rank"].tolist() in ([1, 2], [1, 1])
    assert "guidance_scale=1.0, sample_steps=10, sampler=ddim" in set(table["sampling"])
    markdown = (tmp_path / "lb" / "mnist5k-lenet-mnist.md").read_text()
    assert "| sampling | NFE |" in markdown and r"sample\_steps=10" in markdown  # escaped
    assert pending([run], asked) == []  # scored under these settings ...
    other = ganzoo.EvalRequest(**common, sampling=("sample_steps=30",))
    assert pending([run], other) == [(run, 3)]  # ... but not under others


def test_sampling_time_settings_are_marked_in_the_model_list():
    result = invoke("models", "-v")
    line = next(x for x in result.output.splitlines() if x.strip().startswith("sample_steps:"))
    assert "(sampling time)" in line
    lr = next(x for x in result.output.splitlines() if x.strip().startswith("warmup_steps:"))
    assert "(sampling time)" not in lr
