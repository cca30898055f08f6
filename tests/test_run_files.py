"""What a run directory holds after the unusual cases: metric names, a kill and resume, result ids.

Real training on mnist5k digits (tiny sizes), real evaluations with the
lenet-mnist extractor, real files read back.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli
from ganzoo.leaderboard.collect import collect_run
from ganzoo.testing import tiny_data
from ganzoo.train.trainer import Trainer, TrainOptions


def rows(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


# ------------------------------------------------------------------------ metric names


@dataclasses.dataclass
class NamedConfig:
    lr: float = 0.1


class Named(ganzoo.Model):
    """Logs a metric already prefixed with its phase, a plain one, and one named like the loss."""

    name = "named"
    family = "test"
    description = "metric names"
    Config = NamedConfig

    def build(self) -> None:
        self.net = torch.nn.Linear(1, self.spec.dims)

    def configure_optimizers(self):
        return {"D": torch.optim.SGD(self.net.parameters(), lr=self.config.lr)}

    def phases(self):
        return [ganzoo.Phase("D", "D", self.loss)]

    def loss(self, batch):
        error = (self.net(batch.x.new_ones(batch.size, 1)) - batch.x.flatten(1)).pow(2).mean()
        return error, {"D/acc": 0.5, "p_real": torch.tensor(0.25), "D/loss": 99.0}

    def sample(self, n, generator=None):
        out = torch.tanh(self.net(torch.ones(n, 1)))
        return out.view(n, self.spec.channels, self.spec.height, self.spec.width)


def test_metrics_are_named_phase_slash_metric_once(tmp_path, capsys):
    data = tiny_data(n=64)
    options = TrainOptions(steps=2, batch_size=8, log_every=1, quiet=True)
    for run in ("a", "b"):  # the warning comes once per process, not once per run
        Trainer(Named(NamedConfig(), data.spec), data, options, run_dir=tmp_path / run).fit()
    first = rows(tmp_path / "a")[0]
    assert set(first) == {"step", "time", "steps_per_s", "D/loss", "D/acc", "D/p_real"}
    assert first["D/acc"] == 0.5 and first["D/p_real"] == 0.25
    assert first["D/loss"] != 99.0 and first["D/loss"] > 0  # the trainer's own loss
    assert capsys.readouterr().err.splitlines() == [
        "ganzoo: warning: model 'named' logs 'D/loss' from phase 'D', the name of the loss the "
        "trainer logs itself; its value is dropped (rename the metric)"
    ]


def test_a_metric_that_is_not_a_number_is_one_line(tmp_path):
    data = tiny_data(n=64)
    model = Named(NamedConfig(), data.spec)
    model.loss = lambda batch: (Named.loss(model, batch)[0], {"per_image": torch.ones(3)})
    with pytest.raises(ganzoo.GanzooError) as info:
        Trainer(model, data, TrainOptions(steps=1, batch_size=8, quiet=True)).fit()
    assert str(info.value) == (
        "model 'named', phase 'D': metric 'per_image' is a tensor of shape (3,); log floats or "
        "0-d tensors"
    )


# ------------------------------------------------------------------- kill and resume


def test_after_a_kill_and_resume_each_step_is_logged_once_and_time_goes_on(tmp_path):
    data = tiny_data(n=128)
    options = dict(batch_size=16, log_every=1, checkpoint_every=2, sample_every=100, quiet=True)

    def trainer(steps: int) -> Trainer:
        torch.manual_seed(0)
        model = ganzoo.build_model("gan", data.spec, g_hidden=(32,), d_hidden=(32,))
        return Trainer(model, data, TrainOptions(steps=steps, **options), run_dir=tmp_path)

    killed = trainer(8)
    calls, original = [], killed.phases[0].loss

    def dies_in_step_6(batch):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt  # as SIGKILL would: after step 5 was logged, before step 6
        return original(batch)

    killed.phases[0].loss = dies_in_step_6
    with pytest.raises(KeyboardInterrupt):
        killed.fit()
    with (tmp_path / "metrics.jsonl").open("a") as fh:
        fh.write('{"step": 6, "time"')  # and a row torn by the kill
    rows_before = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows_before[:-1]] == [1, 2, 3, 4, 5]

    assert trainer(8).fit().resumed_from == 4
    logged = rows(tmp_path)
    assert [r["step"] for r in logged] == [1, 2, 3, 4, 5, 6, 7, 8]
    times = [r["time"] for r in logged]
    assert times == sorted(times), times
    progress = json.loads((tmp_path / "progress.json").read_text())["checkpoints"]
    assert times[4] >= progress["4"]["elapsed_s"]  # step 5 again, continuing from step 4's time
    assert times[-1] == pytest.approx(progress["8"]["elapsed_s"], abs=0.5)
    assert rows_before[4] not in (tmp_path / "metrics.jsonl").read_text()


# ------------------------------------------------------------------ one id per result


@pytest.fixture(scope="module")
def scored_run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("scored") / "run"
    data = tiny_data(n=128)
    torch.manual_seed(0)
    model = ganzoo.build_model("gan", data.spec, g_hidden=(32,), d_hidden=(32,))
    options = TrainOptions(steps=2, batch_size=16, checkpoint_every=1, sample_every=1, quiet=True)
    Trainer(model, data, options, run_dir=run).fit()
    return run


def test_the_file_the_summary_and_the_leaderboard_show_one_protocol_id(scored_run, tmp_path):
    result = ganzoo.evaluate(scored_run, metrics="fid", num_samples=100)
    pid = result.protocol_id
    assert result.path.name == f"step-00000002-raw-{pid}.json"
    assert json.loads(result.path.read_text())["protocol_id"] == pid
    assert f"  protocol {pid}: 100 generated vs mnist5k:test (500 real)" in result.summary()
    (row,) = collect_run(scored_run, tmp_path, "mnist5k", "lenet-mnist", {})
    assert row["protocol"] == pid and row["result"].endswith(result.path.name)

    shown = CliRunner().invoke(
        cli, ["eval", str(scored_run), "--metrics", "fid", "--num-samples", "100"]
    )
    assert shown.exit_code == 0, shown.output
    assert f"protocol {pid}:" in shown.stdout
    assert sorted(p.name for p in (scored_run / "eval").glob("*.json")) == [result.path.name]

    bigger = ganzoo.evaluate(scored_run, metrics="fid", num_samples=120)  # another protocol
    older = ganzoo.evaluate(scored_run, metrics="fid", num_samples=100, checkpoint=1)
    assert bigger.protocol_id != pid and older.protocol_id == pid  # the same comparable protocol
    assert len(list((scored_run / "eval").glob("*.json"))) == 3


def test_old_result_files_stay_readable_and_are_replaced_by_a_new_result(scored_run, tmp_path):
    result = ganzoo.evaluate(scored_run, metrics="kid", num_samples=100, write=False)
    legacy = result.as_dict()
    legacy["protocol_hash"] = legacy.pop("protocol_id")
    old_name = (
        scored_run / "eval" / "47c01b2348e50035.json"
    )  # named by the former whole-protocol hash
    old_name.write_text(json.dumps(legacy))
    (row,) = [
        r
        for r in collect_run(scored_run, tmp_path, "mnist5k", "lenet-mnist", {})
        if r["protocol"] == result.protocol_id
    ]
    assert (
        row["result"].endswith(old_name.name)
        and row["kid"] == result.metrics["kernel_inception_distance_mean"]
    )

    new = ganzoo.evaluate(scored_run, metrics="kid", num_samples=100)
    assert not old_name.exists(), "the same checkpoint and protocol: the older result goes"
    (row,) = [
        r
        for r in collect_run(scored_run, tmp_path, "mnist5k", "lenet-mnist", {})
        if r["protocol"] == new.protocol_id
    ]
    assert row["result"].endswith(new.path.name)


# ------------------------------------------------------------------------- extractors


def test_ganzoo_extractors_lists_every_registered_one():
    as_json = CliRunner().invoke(cli, ["extractors", "--json"])
    assert as_json.exit_code == 0, as_json.output
    found = {row["name"]: row for row in json.loads(as_json.stdout)}
    assert set(found) >= {"lenet-mnist", "inception-v3-compat"}
    lenet = found["lenet-mnist"]
    assert lenet["plugin"] == "extractors" and lenet["metrics"] == ["is", "fid", "kid", "pr"]
    assert lenet["default_for_shapes"] == [[1, 28, 28]] and not lenet["default_otherwise"]
    text = CliRunner().invoke(cli, ["extractors"]).stdout.splitlines()
    at = next(i for i, line in enumerate(text) if line.startswith("lenet-mnist "))
    assert "[extractors]  Small CNN trained on mnist5k" in text[at]
    assert text[at + 1].strip() == (
        "metrics: is, fid, kid, pr; resize: gray (channel mean), bilinear antialiased to 1x28x28; "
        "default for 1x28x28"
    )
    help_text = CliRunner().invoke(cli, ["eval", "score", "--help"]).stdout
    assert "`ganzoo extractors` lists them" in " ".join(help_text.split())
