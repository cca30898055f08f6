"""Model folders: ganzoo export writes them, ganzoo.from_pretrained and every command read them.

A real run (dcgan, a few steps, scored with lenet-mnist) is exported; the folder
must sample bitwise like the run's checkpoint in a new process, carry a card
whose numbers are the run's, and every way of damaging it must be one line.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli

FID = "frechet_inception_distance"
SCORE = ["--metrics", "fid", "--num-samples", "100"]


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("pretrained") / "run"
    trained = invoke("train", "--model", "dcgan", "--steps", "20", "--batch-size", "16",
                     "--checkpoint-every", "10", "--ema", "--out", run, "-q")  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert invoke("eval", run, *SCORE).exit_code == 0
    return run


@pytest.fixture(scope="module")
def folder(run) -> Path:
    out = run.parent / "dcgan-tiny"
    result = invoke("export", run, "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_the_folder_has_the_hub_layout_and_a_card_with_the_runs_numbers(folder, run):
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md", "config.json", "eval.json", "model.safetensors", "samples.png",
    ]  # fmt: skip
    config = json.loads((folder / "config.json").read_text())
    assert (config["model"], config["plugin"], config["step"], config["ema"]) == (
        "dcgan", "gan", 20, True,
    )  # fmt: skip
    assert config["split"] == "train"  # memorization's held-out images are the rest
    assert config["training"]["command"].startswith("ganzoo ")
    (stored,) = [json.loads(p.read_text()) for p in (run / "eval").glob("*.json")]
    card = (folder / "README.md").read_text()
    head = card.split("---")[1]
    assert "library_name: ganzoo" in head and 'license: "apache-2.0"' in head
    assert "model-index:" in head and "- type: fid" in head
    assert f"value: {stored['metrics'][FID]:.6g}" in head
    assert "![samples](samples.png)" in card
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".dcgan-tiny")]


SAMPLE = """
import sys, torch, ganzoo
model = ganzoo.from_pretrained(sys.argv[1])
torch.save(ganzoo.draw_samples(model, 8, torch.Generator().manual_seed(3)), sys.argv[2])
"""


def test_a_new_process_samples_bitwise_what_the_checkpoint_samples(folder, run, tmp_path):
    env = {**os.environ, "GANZOO_LOAD_PLUGINS": "ganzoo"}
    out = tmp_path / "x.pt"
    proc = subprocess.run([sys.executable, "-c", SAMPLE, str(folder), str(out)], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    loaded = ganzoo.load_run(run)  # the latest checkpoint, EMA weights: what was exported
    expected = ganzoo.draw_samples(loaded.model, 8, torch.Generator().manual_seed(3))
    assert torch.equal(torch.load(out), expected)


def test_sample_and_eval_take_the_folder(folder, run, tmp_path):
    grid = tmp_path / "g.png"
    assert invoke("sample", folder, "--n", "9", "--out", grid).exit_code == 0
    assert grid.stat().st_size > 0
    result = invoke("eval", folder, *SCORE, "--json")
    assert result.exit_code == 0, result.output
    (stored,) = [json.loads(p.read_text()) for p in (run / "eval").glob("*.json")]
    assert json.loads(result.stdout)["metrics"][FID] == pytest.approx(
        stored["metrics"][FID], rel=1e-9
    )


def test_eval_leaderboard_ranks_a_folder_beside_runs(folder, run, tmp_path):
    out = tmp_path / "boards"
    result = invoke("eval", "leaderboard", folder, run, *SCORE, "--out", out)
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "mnist5k-lenet-mnist.json").read_text())["rows"]
    assert len(rows) == 2 and len({row["fid"] for row in rows}) == 1  # the same weights
    assert any(row["run"].startswith("pretrained/dcgan-tiny-") for row in rows)
    # The folder carries the run's training time, so both rows sit at one training cost.
    progress = json.loads((run / "progress.json").read_text())["checkpoints"]["20"]
    config = json.loads((folder / "config.json").read_text())["training"]
    assert (config["elapsed_s"], config["device"]) == (progress["elapsed_s"], "cpu")
    assert {row["train_time_s"] for row in rows} == {progress["elapsed_s"]}
    assert "minutes of training on cpu" in (folder / "README.md").read_text()


@pytest.mark.slow
def test_float16_export_scores_its_own_weights(run, tmp_path):
    out = tmp_path / "half"
    assert invoke("export", run, "--out", out, "--dtype", "float16").exit_code == 0
    (card_result,) = json.loads((out / "eval.json").read_text())
    again = ganzoo.evaluate(out, ganzoo.EvalRequest.from_protocol(card_result["protocol"]))
    assert again.metrics[FID] == pytest.approx(card_result["metrics"][FID], rel=1e-6)
    assert "measured on the float16 weights" in (out / "README.md").read_text()


def damaged(folder: Path, tmp_path: Path, change) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    change(copy)
    return copy


def _edit_config(**changes):
    def change(copy: Path) -> None:
        config = json.loads((copy / "config.json").read_text())
        for key, value in changes.items():
            if value is None:
                config.pop(key)
            else:
                config[key] = value if key != "hyperparameters" else {**config[key], **value}
        (copy / "config.json").write_text(json.dumps(config))

    return change


def _flip_a_byte(copy: Path) -> None:
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(data))


@pytest.mark.parametrize(
    "change, message",
    [
        (_flip_a_byte, "model.safetensors has sha256"),
        (lambda c: (c / "model.safetensors").unlink(), "is not a model folder"),
        (lambda c: (c / "config.json").write_text("{"), "cannot be read as JSON"),
        (_edit_config(weights_sha256=None), "lacks weights_sha256"),
        (_edit_config(model="stylegan9"), "'stylegan9' model made by plugin 'gan'"),
        (_edit_config(hyperparameters={"width": 8}), "does not fit the installed 'dcgan' model"),
        (_edit_config(hyperparameters={"colour": 1}), "does not fit the installed 'dcgan' model"),
    ],
    ids=["tampered", "no-weights", "bad-json", "no-hash", "unknown-model", "shapes", "unknown-key"],
)
def test_a_damaged_folder_is_one_line(folder, tmp_path, change, message):
    copy = damaged(folder, tmp_path, change)
    result = invoke("sample", copy, "--out", tmp_path / "g.png")
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], lines
    assert not (tmp_path / "g.png").exists()


def test_export_refuses_an_existing_folder_and_writes_nothing(run, folder):
    before = sorted(p.name for p in folder.parent.iterdir())
    result = invoke("export", run, "--out", folder)
    assert result.exit_code == 1 and "already exists" in result.stderr
    assert sorted(p.name for p in folder.parent.iterdir()) == before


def test_a_third_party_plugin_ships_pretrained_models_the_same_way(folder):
    class Zoo:
        @ganzoo.hookimpl
        def register_pretrained(self, register):
            register("tiny-dcgan", folder, sha256=None, description="a test zoo")

    ganzoo.register_plugin(Zoo(), "test-zoo")
    try:
        rows = {r["name"]: r for r in json.loads(invoke("models", "--pretrained", "--json").stdout)}
        assert rows["tiny-dcgan"]["plugin"] == "test-zoo" and rows["tiny-dcgan"]["step"] == 20
        assert isinstance(ganzoo.from_pretrained("tiny-dcgan"), ganzoo.Model)
        typo = invoke("sample", "tiny-dcgn", "--out", "x.png")
        assert typo.exit_code == 1 and "Did you mean: tiny-dcgan?" in typo.stderr
    finally:
        ganzoo.unregister_plugin("test-zoo")


def test_a_third_party_plugins_run_exports_and_loads_unchanged(tmp_path, plumbing_model):
    """conftest's plumbing model is a plugin from outside ganzoo, written against the public API."""
    data = ganzoo.load_dataset("mnist5k", "train")
    model = ganzoo.build_model(plumbing_model, data.spec)
    options = ganzoo.TrainOptions(steps=3, batch_size=16, quiet=True, ema=True)
    ganzoo.Trainer(model, data, options, run_dir=tmp_path / "run").fit()
    ganzoo.export_run(tmp_path / "run", tmp_path / "exported")
    config = json.loads((tmp_path / "exported" / "config.json").read_text())
    assert config["model"] == plumbing_model and config["plugin"] == "plumbing"
    loaded = ganzoo.from_pretrained(tmp_path / "exported")
    own = ganzoo.load_run(tmp_path / "run").model
    seed = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    assert torch.equal(ganzoo.draw_samples(loaded, 8, seed()), ganzoo.draw_samples(own, 8, seed()))
