"""One definition per option set: the library's dataclasses and the CLI's options agree.

Every option of every built-in command is derived from a dataclass field
(``TrainOptions`` and ``RunSpec`` feed ``ganzoo train``; ``EvalRequest`` and
``ScoreOptions`` ``ganzoo eval``; ``ScoringOptions`` ``ganzoo eval leaderboard``;
and so on, the table below).  Every option derived from a field must carry that
field's default and help, and every field meant for the command line must be there.
"""

from __future__ import annotations

import dataclasses
import json

import click
import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import BUILTIN_COMMANDS, GlobalOptions, cli
from ganzoo.commands.check import check_cmd
from ganzoo.commands.datasets import datasets_cmd
from ganzoo.commands.eval import score_cmd
from ganzoo.commands.eval_leaderboard import eval_leaderboard_cmd
from ganzoo.commands.export import export_cmd
from ganzoo.commands.extractors import extractors_cmd
from ganzoo.commands.launch import LaunchOptions
from ganzoo.commands.leaderboard import leaderboard_cmd
from ganzoo.commands.listing import DatasetsOptions, ListOptions, ModelsOptions
from ganzoo.commands.models import models_cmd
from ganzoo.commands.options import FieldOption
from ganzoo.commands.plugin import new_cmd
from ganzoo.commands.plugins import plugins_cmd
from ganzoo.commands.sample import sample_cmd
from ganzoo.commands.train import train_cmd
from ganzoo.commands.zoo import zoo_cmd
from ganzoo.eval.request import EvalRequest
from ganzoo.eval.score import ScoreOptions
from ganzoo.leaderboard.scoring import ScoringOptions
from ganzoo.leaderboard.view import ViewOptions
from ganzoo.pretrained.options import ExportOptions
from ganzoo.sampling.files import SampleOptions
from ganzoo.scaffold import NewPluginOptions
from ganzoo.testing.named import CheckOptions
from ganzoo.train.options import TrainOptions
from ganzoo.train.spec import RunSpec
from ganzoo.train.zoo import ZooOptions

COMMANDS = [
    (cli, GlobalOptions, set()),
    (train_cmd, RunSpec, set()),
    (train_cmd, TrainOptions, set()),
    (train_cmd, LaunchOptions, set()),
    (score_cmd, EvalRequest, set()),
    (score_cmd, ScoreOptions, set()),
    (score_cmd, LaunchOptions, set()),
    (eval_leaderboard_cmd, EvalRequest, {"ema"}),
    (eval_leaderboard_cmd, ScoringOptions, set()),
    (zoo_cmd, ZooOptions, set()),
    (sample_cmd, SampleOptions, set()),
    (export_cmd, ExportOptions, set()),
    (leaderboard_cmd, ViewOptions, set()),
    (check_cmd, CheckOptions, set()),
    (models_cmd, ModelsOptions, set()),
    (datasets_cmd, DatasetsOptions, set()),
    (extractors_cmd, ListOptions, set()),
    (plugins_cmd, ListOptions, set()),
    (new_cmd, NewPluginOptions, set()),
]
#: Options click itself adds, which no dataclass describes.
CLICK_OWN = {"help", "version"}


def _commands(command: click.Command, path: str = "ganzoo"):
    """Every command under ``command`` (groups included), with its command line."""
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, f"{path} {name}")


def test_every_option_of_every_builtin_command_comes_from_a_dataclass():
    """The "one definition" rule made checkable: an option written by hand beside the
    dataclasses (``click.option`` in a command module) fails here, naming it."""
    builtin = {id(c) for c in BUILTIN_COMMANDS} | {id(cli)}
    seen = 0
    for path, command in _commands(cli):
        if id(command) not in builtin and not command.callback.__module__.startswith("ganzoo."):
            continue  # a plugin's command
        for param in command.params:
            if isinstance(param, click.Option) and param.name not in CLICK_OWN:
                assert isinstance(param, FieldOption), f"{path} {param.opts[0]} is hand-written"
                seen += 1
    assert seen > 100, seen
    assert {"RunSpec.model", "LaunchOptions.nproc", "GlobalOptions.traceback"} <= {
        p.source for _, c in _commands(cli) for p in c.params if isinstance(p, FieldOption)
    }


@pytest.mark.parametrize("command, cls, excluded", COMMANDS, ids=lambda c: getattr(c, "name", ""))
def test_every_cli_default_is_the_dataclass_default(command, cls, excluded):
    params = {p.name: p for p in command.params if isinstance(p, click.Option)}
    fields = [f for f in dataclasses.fields(cls) if f.metadata.get("cli", True)]
    assert fields, "nothing to compare"
    for field in fields:
        if field.name in excluded:
            assert field.name not in params
            continue
        assert field.name in params, f"{command.name} lacks --{field.name.replace('_', '-')}"
        if field.default is dataclasses.MISSING:  # no default: the option is required
            assert params[field.name].required, field.name
        else:
            assert params[field.name].default == field.default, field.name
        assert params[field.name].help == field.metadata["help"], field.name


def test_fields_kept_off_the_command_line_are_absent():
    params = {p.name for p in train_cmd.params}
    assert "resume" not in params and "num_samples" not in params


def test_the_library_and_the_cli_default_to_the_same_protocol(tmp_path):
    """`ganzoo eval X` and `ganzoo.evaluate(X)` record the same protocol, field for field."""
    images = ganzoo.load_dataset("mnist5k", "test").images[:60]
    path = tmp_path / "samples.npz"
    import numpy as np

    np.savez(path, images=images.numpy())
    from_cli = CliRunner().invoke(cli, ["eval", str(path), "--metrics", "fid", "--json"])
    assert from_cli.exit_code == 0, from_cli.output
    from_library = ganzoo.evaluate(path, metrics="fid")
    cli_protocol = json.loads(from_cli.stdout)["protocol"]
    assert cli_protocol == json.loads(json.dumps(from_library.protocol))


def test_build_model_refuses_misspelt_hyperparameters():
    spec = ganzoo.DatasetSpec(1, 28, 28)
    with pytest.raises(ganzoo.ConfigError, match="unknown hyperparameter 'n_layer'.*n_layers"):
        ganzoo.build_model("transformer", spec, n_layer=1)
    model = ganzoo.build_model("transformer", spec, {"n_layers": 1}, n_heads=2)
    assert (model.config.n_layers, model.config.n_heads) == (1, 2)


def test_a_run_made_before_a_hyperparameter_existed_still_resumes(tmp_path, plumbing_model):
    """A new Config field whose default keeps the old behaviour is not 'a different run'."""
    out = tmp_path / "run"
    common = ["train", "--model", plumbing_model, "--batch-size", "16", "--out", str(out), "-q"]
    assert CliRunner().invoke(cli, [*common, "--steps", "2"]).exit_code == 0
    info = json.loads((out / "run.json").read_text())
    del info["hyperparameters"]["z_dim"]  # as written by a ganzoo without the field
    (out / "run.json").write_text(json.dumps(info))
    again = CliRunner().invoke(cli, [*common, "--steps", "4"])
    assert again.exit_code == 0, again.output
    different = CliRunner().invoke(cli, [*common, "--steps", "6", "--set", "z_dim=4"])
    assert different.exit_code == 1 and "holds a different run" in different.stderr


# (option set, field, a value out of its range, what the one line says)
OUT_OF_RANGE = [
    (TrainOptions, "grad_clip", -1.0, "--grad-clip must be greater than 0, not -1.0"),
    (TrainOptions, "grad_clip", float("nan"), "--grad-clip must be a finite number, not nan"),
    (TrainOptions, "ema_decay", 1.5, "--ema-decay must be less than 1, not 1.5"),
    (TrainOptions, "ema_decay", float("inf"), "--ema-decay must be a finite number, not inf"),
    (TrainOptions, "seed", 2**70, "--seed must be at most 9223372036854775807"),
    (TrainOptions, "threads", 0, "--threads must be at least 1, not 0"),
    (EvalRequest, "num_samples", 10**12, "--num-samples must be at most 10000000"),
    (EvalRequest, "seed", -1, "--seed must be at least 0, not -1"),
    (EvalRequest, "kid_subset_size", 1, "--kid-subset-size must be at least 2, not 1"),
    (SampleOptions, "n", 0, "--n must be at least 1, not 0"),
    (SampleOptions, "n", 10**12, "--n must be at most 10000000"),
    (SampleOptions, "seed", -1, "--seed must be at least 0, not -1"),
    (ZooOptions, "steps", 0, "--steps must be at least 1, not 0"),
    (ZooOptions, "scale", float("nan"), "--scale must be a finite number, not nan"),
    (ZooOptions, "threads", 0, "--threads must be at least 1, not 0"),
]
#: What an option set needs besides the value tested (a field without a default).
REQUIRED = {SampleOptions: {"out": "grid.png"}}
#: The command line each option set's values are tried on.
COMMAND_LINES = {
    TrainOptions: "train --model gan --steps 1 -q",
    EvalRequest: "eval gan-mnist5k",
    SampleOptions: "sample gan-mnist5k --out grid.png",
    ZooOptions: "zoo",
}


@pytest.mark.parametrize("cls, name, value, message", OUT_OF_RANGE, ids=lambda v: str(v))
def test_the_option_set_refuses_values_out_of_range(cls, name, value, message):
    """The dataclass is where a range is checked, so the library refuses what the CLI does."""
    with pytest.raises(ganzoo.ConfigError) as caught:
        options = cls(**REQUIRED.get(cls, {}), **{name: value})
        options.check() if hasattr(options, "check") else None
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize("cls, name, value, message", OUT_OF_RANGE, ids=lambda v: str(v))
def test_the_cli_refuses_the_same_values(cls, name, value, message):
    command = COMMAND_LINES[cls]
    flag = "--" + name.replace("_", "-")
    result = CliRunner().invoke(cli, [*command.split(), flag, str(value)])
    assert result.exit_code in (1, 2), result.output
    assert result.stderr.startswith("Error: ") and flag in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr


def test_ema_decay_within_range_and_grad_clip_default_are_accepted():
    assert TrainOptions(ema_decay=0.0, grad_clip=1e-3).ema_decay == 0.0
    assert TrainOptions().grad_clip is None


def test_ema_weights_are_chosen_with_one_wording_everywhere():
    """sample, eval and export all load a TARGET: --ema/--no-ema says the same in each."""
    helps = {
        command.name: next(p.help for p in command.params if p.name == "ema")
        for command in (sample_cmd, score_cmd, export_cmd)
    }
    assert len(set(helps.values())) == 1, helps


def test_the_library_refuses_what_sample_and_zoo_refuse_before_any_work():
    with pytest.raises(ganzoo.GanzooError, match="--out must end in .png or .npz, not 'grid.jpg'"):
        SampleOptions(out="grid.jpg")
    with pytest.raises(ganzoo.GanzooError, match="use either --steps or --minutes, not both"):
        ZooOptions(steps=10, minutes=1.0)
    with pytest.raises(ganzoo.GanzooError, match="--dtype must be one of float32, float16"):
        ganzoo.export_run("no-such-run", "folder", dtype="float64")  # before the run is read
    with pytest.raises(ganzoo.GanzooError, match="--best and --all-checkpoints choose different"):
        ViewOptions(best=True, all_checkpoints=True)
