"""A plugin's tracker in real training: what it is given, when, and what its failures cost.

The tracker here is an ordinary plugin registered through the plugin manager,
as a third party's would be; it records every call into the run directory, so
the assertions compare what it saw with what the run wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.data.base import ImageData
from ganzoo.train.trainer import Trainer, TrainOptions

pytestmark = pytest.mark.slow


class Recorder(ganzoo.Tracker):
    """Every call as a JSON line in RUN/recorded.jsonl; its state counts the processes."""

    def __init__(self, run: ganzoo.TrackerRun) -> None:
        super().__init__(run)
        starts = run.state.get("starts", 0) + 1
        run.save_state({"starts": starts})
        self._note("start", run.resumed_from, starts=starts, model=run.config.get("model"))

    def _note(self, what, step, **details):
        with open(self.run.dir / "recorded.jsonl", "a") as fh:
            fh.write(json.dumps({"call": what, "step": step, **details}) + "\n")

    def log_scalars(self, step, scalars):
        self._note("scalars", step, scalars=scalars)

    def log_image(self, step, tag, path):
        self._note("image", step, tag=tag, exists=Path(path).is_file())

    def log_results(self, step, results, path):
        fid = results["metrics"]["frechet_inception_distance"]
        self._note("results", step, fid=fid, path=str(path))

    def finish(self):
        self._note("finish", None)


class Broken(ganzoo.Tracker):
    def log_scalars(self, step, scalars):
        raise ConnectionError("the tracking server went away")


class Unavailable(ganzoo.Tracker):
    @classmethod
    def check(cls):
        raise ganzoo.GanzooError("tracker 'unavailable' needs libfoo: pip install foo")


class Trackers:
    @ganzoo.hookimpl
    def register_trackers(self, register):
        register("recorder", Recorder, description="records every call")
        register("broken", Broken)
        register("unavailable", Unavailable, extra="foo")


@pytest.fixture
def trackers(ganzoo_plugin):
    ganzoo_plugin(Trackers(), "test-trackers")


def train(run_dir: Path, **options) -> Trainer:
    data = ganzoo.load_dataset("mnist5k", "train")
    data = ImageData(data.images[:128], data.labels[:128], data.spec, data.name, data.split)
    torch.manual_seed(0)
    model = ganzoo.build_model("dcgan", data.spec, {"width": 8})
    defaults = dict(steps=4, batch_size=16, log_every=2, sample_every=2, quiet=True, threads=1)
    trainer = Trainer(model, data, TrainOptions(**{**defaults, **options}), run_dir)
    trainer.fit()
    return trainer


def recorded(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "recorded.jsonl").read_text().splitlines()]


def test_a_tracker_sees_every_row_grid_and_result_of_the_run(tmp_path, trackers):
    run = tmp_path / "run"
    train(run, tracker="recorder", eval_every=2, eval_samples=40)
    calls = recorded(run)
    assert calls[0] == {"call": "start", "step": None, "starts": 1, "model": "dcgan"}
    assert calls[-1]["call"] == "finish" and [c["call"] for c in calls].count("finish") == 1
    jsonl = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    sent = [{"step": c["step"], **c["scalars"]} for c in calls if c["call"] == "scalars"]
    assert sent == jsonl, "the tracker gets exactly the rows metrics.jsonl holds"
    images = [c for c in calls if c["call"] == "image"]
    assert [(c["step"], c["tag"], c["exists"]) for c in images] == [
        (2, "samples", True),
        (4, "samples", True),
    ]
    results = [c for c in calls if c["call"] == "results"]
    assert [c["step"] for c in results] == [2, 4]
    for call in results:
        stored = json.loads(Path(call["path"]).read_text())
        assert stored["metrics"]["frechet_inception_distance"] == call["fid"]


def test_resume_and_a_later_eval_reach_the_same_tracker_state(tmp_path, trackers):
    run = tmp_path / "run"
    train(run, tracker="recorder", steps=2)
    train(run, tracker="recorder", steps=4)
    starts = [c for c in recorded(run) if c["call"] == "start"]
    assert [(c["step"], c["starts"]) for c in starts] == [(None, 1), (2, 2)]
    ganzoo.evaluate(run, metrics="fid", num_samples=40)
    calls = recorded(run)
    assert [c["call"] for c in calls[-3:]] == ["start", "results", "finish"]
    assert calls[-2]["step"] == 4 and calls[-3]["starts"] == 3


def test_a_failing_tracker_is_reported_once_and_training_goes_on(tmp_path, trackers, capfd):
    run = tmp_path / "run"
    trainer = train(run, tracker="broken,recorder")
    assert trainer.step == 4
    err = capfd.readouterr().err
    assert err.count("tracker 'broken' failed in log_scalars") == 1
    assert "ConnectionError: the tracking server went away" in err
    assert "training goes on" in err
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 2
    assert [c["step"] for c in recorded(run) if c["call"] == "scalars"] == [2, 4]


def test_a_tracker_that_cannot_work_stops_training_before_anything_is_written(tmp_path, trackers):
    run = tmp_path / "run"
    with pytest.raises(ganzoo.GanzooError, match="needs libfoo: pip install foo"):
        train(run, tracker="recorder,unavailable")
    assert not run.exists()
