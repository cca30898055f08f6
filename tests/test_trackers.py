"""The first-party trackers against the real libraries: TensorBoard's own event reader and an
MLflow SQLite store queried with MLflow's client.

A tiny dcgan run trains with ``--tracker tensorboard,mlflow`` and in-loop
evaluation, is interrupted, resumed and evaluated again; what each store then
holds is compared with ``metrics.jsonl`` and the result files.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.data.base import ImageData
from ganzoo.track.fanout import tracker_classes
from ganzoo.train.trainer import Trainer, TrainOptions

pytestmark = pytest.mark.slow
pytest.importorskip("tensorboard")
pytest.importorskip("mlflow")


def train(run_dir: Path, steps: int) -> Trainer:
    data = ganzoo.load_dataset("mnist5k", "train")
    data = ImageData(data.images[:128], data.labels[:128], data.spec, data.name, data.split)
    torch.manual_seed(0)
    model = ganzoo.build_model("dcgan", data.spec, {"width": 8})
    options = TrainOptions(
        steps=steps, batch_size=16, log_every=2, sample_every=2, checkpoint_every=2, quiet=True,
        threads=1, eval_every=4, eval_samples=40, tracker="tensorboard,mlflow",
    )  # fmt: skip
    trainer = Trainer(model, data, options, run_dir)
    trainer.fit()
    return trainer


@pytest.fixture(scope="module")
def tracked(tmp_path_factory) -> Path:
    """A run trained to step 6, then 'interrupted': trained on from step 6 to 8 by a new
    Trainer after the rows of steps 7-8 were logged once already (as a kill would leave
    them), then evaluated by ``ganzoo.evaluate``."""
    base = tmp_path_factory.mktemp("tracked")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(base)
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        run = base / "run"
        train(run, 8)
        # Undo steps 7-8 on disk as a SIGKILL after checkpoint 6 would, but keep what the
        # trackers logged of them: the resume must not log those steps twice.
        (run / "checkpoints" / "step-00000008.pt").unlink()
        train(run, 8)
        ganzoo.evaluate(run, checkpoint=8, metrics="fid", num_samples=40)
    return run


def same_points(found, expected) -> bool:
    """(step, value) pairs: the same steps in order, values equal to float precision."""
    found, expected = sorted(found), sorted(expected)
    return [s for s, _ in found] == [s for s, _ in expected] and all(
        v == pytest.approx(w, rel=1e-6) for (_, v), (_, w) in zip(found, expected, strict=True)
    )


def jsonl(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_mlflow_holds_the_run_once_whatever_the_resume(tracked):
    from mlflow.tracking import MlflowClient

    state = json.loads((tracked / "trackers" / "mlflow.json").read_text())
    assert state["tracking_uri"] == f"sqlite:///{tracked.parent.resolve()}/mlruns.db"
    client = MlflowClient(state["tracking_uri"])
    run = client.get_run(state["run_id"])
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    beside_the_database = (tracked.parent / "mlartifacts").resolve().as_uri()
    assert run.info.artifact_uri.startswith(beside_the_database)
    assert run.data.params["model"] == "dcgan" and run.data.params["options.eval_every"] == "4"
    assert run.data.params["hyperparameters.width"] == "8"
    rows = jsonl(tracked)
    losses = [(r["step"], r["G/loss"]) for r in rows if "G/loss" in r]
    history = client.get_metric_history(state["run_id"], "G/loss")
    assert same_points([(m.step, m.value) for m in history], losses)
    fid = [(m.step, m.value) for m in client.get_metric_history(state["run_id"], "eval/fid")]
    assert same_points(fid, [(r["step"], r["eval/fid"]) for r in rows if "eval/fid" in r])
    results = client.get_metric_history(state["run_id"], "results/frechet_inception_distance")
    assert sorted(m.step for m in results) == [4, 8, 8], "two in-loop results and ganzoo eval's"
    artifacts = {a.path for a in client.list_artifacts(state["run_id"], "eval")}
    assert artifacts == {f"eval/{p.name}" for p in (tracked / "eval").glob("*.json")}
    assert len(client.list_artifacts(state["run_id"], "samples")) == 4


def test_tensorboard_events_read_back_with_each_step_once(tracked):
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    events = EventMultiplexer({"run": str(tracked / "tensorboard")}, size_guidance={"images": 0})
    events.Reload()
    rows = jsonl(tracked)
    steps = [e.step for e in events.Scalars("run", "G/loss")]
    assert steps == [r["step"] for r in rows if "G/loss" in r], "no step twice after the resume"
    fid = [(e.step, e.value) for e in events.Scalars("run", "eval/fid")]
    assert same_points(fid, [(r["step"], r["eval/fid"]) for r in rows if "eval/fid" in r])
    assert [e.step for e in events.Images("run", "samples")] == [2, 4, 6, 8]
    assert events.Scalars("run", "results/frechet_inception_distance")[-1].step == 8


def test_a_missing_library_is_one_line_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    with pytest.raises(ganzoo.GanzooError, match=r"pip install 'ganzoo\[mlflow\]'"):
        tracker_classes(("mlflow",))
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ganzoo.GanzooError, match=r"pip install 'ganzoo\[tensorboard\]'"):
        tracker_classes(("tensorboard",))


def test_an_unreachable_tracking_server_is_refused_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    started = time.perf_counter()
    with pytest.raises(ganzoo.GanzooError, match="http://127.0.0.1:9 is unreachable") as caught:
        tracker_classes(("mlflow",))
    assert time.perf_counter() - started < 10
    assert "\n" not in str(caught.value)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/missing/mlruns.db")
    with pytest.raises(ganzoo.GanzooError, match="does not exist or is not writable"):
        tracker_classes(("mlflow",))
