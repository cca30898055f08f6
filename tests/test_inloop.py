"""Evaluation inside training: real dcgan runs on mnist5k scored as they train.

What is asserted: the in-loop numbers are ``ganzoo.evaluate``'s for the same
checkpoint; training with evaluation trains exactly as training without it;
the best checkpoint is the best score's and survives rotation; a SIGKILL
between a checkpoint and its evaluation resumes to the rows of an
uninterrupted run; ``--stop-after`` stops a run that no longer improves; and
bad options are refused before anything is written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.cli import cli
from ganzoo.data.base import ImageData
from ganzoo.train.checkpoint import load_checkpoint
from ganzoo.train.trainer import Trainer, TrainOptions

pytestmark = pytest.mark.slow
#: Timing columns differ between two runs of the same computation; everything else may not.
WALL_CLOCK = ("time", "steps_per_s", "eval/seconds")


def tiny_data(n: int = 256) -> ImageData:
    data = ganzoo.load_dataset("mnist5k", "train")
    return ImageData(data.images[:n], data.labels[:n], data.spec, data.name, data.split)


def train(run_dir: Path | None, lr: float = 2e-4, **options) -> Trainer:
    torch.manual_seed(3)  # the initial weights, as ganzoo.train.recipe seeds them
    model = ganzoo.build_model("dcgan", tiny_data().spec, {"width": 8, "lr_g": lr, "lr_d": lr})
    defaults = dict(steps=6, batch_size=16, log_every=2, quiet=True, seed=3, threads=1)
    trainer = Trainer(model, tiny_data(), TrainOptions(**{**defaults, **options}), run_dir)
    trainer.fit()
    return trainer


def rows(run_dir: Path) -> list[dict]:
    found = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in found]


IN_LOOP = dict(eval_every=3, eval_samples=60)


def test_in_loop_numbers_are_the_evaluators_and_training_is_unchanged(tmp_path):
    trainer = train(tmp_path / "run", **IN_LOOP)
    run = tmp_path / "run"
    eval_rows = [r for r in rows(run) if "eval/fid" in r]
    assert [r["step"] for r in eval_rows] == [3, 6]
    for row in eval_rows:
        again = ganzoo.evaluate(
            run, checkpoint=row["step"], metrics="fid", num_samples=60, write=False
        )
        assert row["eval/fid"] == pytest.approx(again.metrics["frechet_inception_distance"], 1e-9)
        low, high = again.intervals["frechet_inception_distance"]
        assert (row["eval/fid_low"], row["eval/fid_high"]) == pytest.approx((low, high), 1e-9)
    results = sorted((run / "eval").glob("*.json"))
    assert [json.loads(p.read_text())["protocol"]["checkpoint"]["step"] for p in results] == [3, 6]
    # Evaluating leaves the training random streams alone: the same weights as without it.
    plain = train(tmp_path / "plain")
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            trainer.model.state_dict().values(), plain.model.state_dict().values(), strict=True
        )
    )
    progress = json.loads((run / "progress.json").read_text())["in_loop"]
    best = min(progress["history"], key=lambda r: r["fid"])
    assert progress["best"]["step"] == best["step"] and progress["best"]["metric"] == "fid"
    assert load_checkpoint(run / "checkpoints" / "best.pt")["step"] == best["step"]
    assert 0 < progress["eval_share"] < 1 and progress["eval_seconds"] > 0


def test_the_best_checkpoint_survives_rotation_and_loads_as_best(tmp_path):
    run = tmp_path / "run"
    train(run, steps=9, keep_last=1, **IN_LOOP)
    best = json.loads((run / "progress.json").read_text())["in_loop"]["best"]["step"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "best.pt",
        "step-00000009.pt",
    ]
    loaded = ganzoo.load_run(run, checkpoint="best")
    assert loaded.step == best
    result = ganzoo.evaluate(run, checkpoint="best", metrics="fid", num_samples=60, write=False)
    assert result.protocol["checkpoint"]["step"] == best
    assert result.protocol["checkpoint"]["selected"] == "best fid of in-loop evaluation"


def test_sigkill_between_a_checkpoint_and_its_evaluation_resumes_to_the_same_rows(tmp_path):
    """A real SIGKILL right after checkpoint 6 is written, before it is scored."""
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    args = ["--model", "dcgan", "--set", "width=8", "--steps", "9", "--batch-size", "16"]
    args += ["--log-every", "2", "--eval-every", "3", "--eval-samples", "60", "--threads", "1"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    run = [sys.executable, "-m", "ganzoo", "train", *args, "-q"]
    subprocess.run([*run, "--out", str(whole)], check=True, env=env, capture_output=True)
    killer = textwrap.dedent(
        """
        import os, signal, sys
        from ganzoo.train import inloop
        original = inloop.InLoop.evaluate
        def evaluate(self, run_dir, step, *args):
            if step == 6:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(self, run_dir, step, *args)
        inloop.InLoop.evaluate = evaluate
        from ganzoo.cli import main
        sys.argv = ["ganzoo", *sys.argv[1:]]
        main()
        """
    )
    cut = subprocess.run(
        [sys.executable, "-c", killer, "train", *args, "-q", "--out", str(killed)], env=env
    )
    assert cut.returncode == -9
    assert (killed / "checkpoints" / "step-00000006.pt").is_file()
    assert not any(r.get("eval/fid") and r["step"] == 6 for r in rows(killed))
    again = subprocess.run([*run, "--out", str(killed)], env=env, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert rows(killed) == rows(whole)
    history = json.loads((killed / "progress.json").read_text())["in_loop"]["history"]
    assert [r["step"] for r in history] == [3, 6, 9]


def test_stop_after_stops_a_run_that_no_longer_improves(tmp_path):
    run = tmp_path / "run"
    trainer = train(run, lr=1e-12, steps=30, stop_after=2, **IN_LOOP)
    result_steps = [r["step"] for r in rows(run) if "eval/fid" in r]
    assert trainer.step == 9 and result_steps == [3, 6, 9]
    stopped = json.loads((run / "progress.json").read_text())["in_loop"]["stopped"]
    assert stopped["step"] == 9 and "without beating the best fid" in stopped["reason"]
    again = train(run, lr=1e-12, steps=30, stop_after=2, **IN_LOOP)
    assert again.step == 9, "a resumed run that stopped early stays stopped"
    more_patient = train(run, lr=1e-12, steps=12, stop_after=5, **IN_LOOP)
    assert more_patient.step == 12, "a larger --stop-after trains on"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--keep-best", "kid"], "--keep-best kid: not measured by --eval-metrics fid"),
        (["--eval-metrics", ","], "--eval-metrics ,: no metrics requested"),
        (["--stop-after", "2", "--keep-best", "none"], "--stop-after needs a metric to watch"),
        (["--eval-metrics", "fjd"], "--eval-metrics fjd: unknown metric 'fjd'"),
        (["--tracker", "wandb"], "--tracker: unknown tracker 'wandb'"),
    ],
)
def test_bad_in_loop_options_are_one_line_and_write_nothing(tmp_path, args, message):
    from click.testing import CliRunner

    out = tmp_path / "run"
    base = ["train", "--model", "dcgan", "--steps", "3", "--eval-every", "3", "--out", str(out)]
    result = CliRunner().invoke(cli, [*base, *args])
    assert result.exit_code != 0
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def test_keep_best_without_eval_every_is_refused(tmp_path):
    with pytest.raises(ganzoo.GanzooError, match="--keep-best needs in-loop evaluation"):
        train(tmp_path / "run", keep_best="fid")
    assert not (tmp_path / "run").exists()


def test_boards_use_in_loop_results_without_rescoring_and_mark_the_selected_one(tmp_path):
    from click.testing import CliRunner

    run, board = tmp_path / "run", tmp_path / "board"
    train(run, steps=9, **IN_LOOP)
    written = {p.name: p.read_bytes() for p in (run / "eval").glob("*.json")}
    best = ganzoo.evaluate(run, checkpoint="best", metrics="fid", num_samples=60)
    runner = CliRunner()
    args = ["eval", "leaderboard", str(run), "--metrics", "fid", "--num-samples", "60"]
    built = runner.invoke(cli, [*args, "--out", str(board)])
    assert built.exit_code == 0, built.output
    after = {p.name: p.read_bytes() for p in (run / "eval").glob("*.json")}
    assert after.keys() == written.keys(), "the board scored nothing the loop had not"
    changed = [name for name in after if after[name] != written[name]]
    assert changed == [best.path.name], "only --checkpoint best's result was rewritten"
    shown = runner.invoke(cli, ["leaderboard", "--dir", str(board), "--all-checkpoints"])
    step = best.protocol["checkpoint"]["step"]
    assert f"{step} (selected)" in shown.output
    # What each image cost to draw is measured with every evaluation and shown as a column.
    timing = best.extra["sampling_time"]
    assert timing["seconds_per_image"] > 0 and timing["device"] == "cpu"
    listed = json.loads(
        runner.invoke(cli, ["leaderboard", "--dir", str(board), "--format", "json"]).output
    )
    costs = [row["sample_s"] for row in listed["rows"] if row["model"] == "dcgan"]
    assert costs and all(c > 0 for c in costs)
    header = [line for line in shown.output.splitlines() if line.split()[:2] == ["rank", "group"]]
    assert header and "s/image" in header[0].split()
    assert "chosen on the evaluation reference, so optimistic" in shown.output


def test_eval_every_without_the_extractors_weights_is_refused_before_training(
    tmp_path, monkeypatch
):
    """RGB images are scored by Inception; without its weights there is nothing to score with."""
    import numpy as np
    from click.testing import CliRunner

    images = np.random.default_rng(0).integers(0, 255, (32, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "rgb.npz", images=images)
    monkeypatch.setenv("GANZOO_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    out = tmp_path / "run"
    args = ["train", "--model", "dcgan", "--dataset", f"npz:{tmp_path / 'rgb.npz'}"]
    args += ["--steps", "2", "--batch-size", "16", "--eval-every", "1", "--out", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "--eval-metrics fid: Inception weights file" in result.output
    assert "does not exist" in result.output and not out.exists()
