"""A plugin author's mistakes, each caught where it is made, as one line naming the plugin and the fix.

Every message is checked word for word: these lines are what an author reads
instead of a traceback (or instead of nothing, when a model silently went missing).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import click
import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo import PluginError, plugins
from ganzoo.cli import cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def only_ganzoo(monkeypatch):
    """ganzoo's own plugins and nothing else, a fresh manager before and after, warnings allowed."""
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "ganzoo")
    for name in ("GANZOO_STRICT_PLUGINS", "GANZOO_DEBUG", "GANZOO_PLUGINS_DIR"):
        monkeypatch.delenv(name, raising=False)
    plugins.reset()
    yield
    plugins.reset()


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("ganzoo: warning:")]


@dataclasses.dataclass
class SmallConfig:
    width: int = 4


def model_class(name: str, sample=None, config: type = SmallConfig) -> type:
    """A real, trainable model; ``sample(self, n, generator)`` replaces its (correct) sampler."""

    class Linear(ganzoo.Model):
        family = "test"
        description = "a linear generator for these tests"
        Config = config

        def build(self) -> None:
            self.net = torch.nn.Linear(2, self.spec.dims)

        def configure_optimizers(self):
            return {"g": torch.optim.SGD(self.net.parameters(), lr=0.1)}

        def phases(self):
            return [
                ganzoo.Phase(
                    "g",
                    "g",
                    lambda b: (
                        (self.net(b.x.new_ones(b.size, 2)) - b.x.flatten(1)).pow(2).mean(),
                        {},
                    ),
                )
            ]

        def sample(self, n, generator=None):
            x = torch.tanh(self.net(ganzoo.noise(n, 2, self.device, generator)))
            return x.view(n, *self.spec_shape)

        @property
        def spec_shape(self):
            return (self.spec.channels, self.spec.height, self.spec.width)

    Linear.name = name
    if sample is not None:
        Linear.sample = sample
    return Linear


class Registers:
    """An in-process plugin registering model classes."""

    def __init__(self, *classes):
        self.classes = classes

    @ganzoo.hookimpl
    def register_models(self, register):
        for cls in self.classes:
            register(cls)


# --------------------------------------------------------------- a hook name that is no hook


class Misspelt:
    @ganzoo.hookimpl
    def register_model(self, register):  # the hook is register_models
        register(model_class("typogan"))


MISSPELT = (
    "plugin 'typo' (in-process) implements 'register_model', which is not a ganzoo hook and is "
    "never called; did you mean 'register_models'?"
)


def test_a_misspelt_hook_is_a_warning_naming_the_plugin_and_the_right_name(only_ganzoo, capsys):
    plugins.register_plugin(Misspelt(), "typo")
    assert warning_lines(capsys.readouterr().err) == [f"ganzoo: warning: {MISSPELT}"]
    assert "typogan" not in plugins.registry("register_models")


def test_a_misspelt_hook_is_shown_by_ganzoo_plugins(only_ganzoo):
    plugins.register_plugin(Misspelt(), "typo")
    text = CliRunner().invoke(cli, ["plugins"])
    assert text.exit_code == 0, text.output
    block = text.stdout.split("typo  [in-process]  loaded\n", 1)[1].split("\n")[:2]
    assert block == ["  hooks: -", f"  warning: {MISSPELT.split('(in-process) ')[1]}"]
    rows = {
        row["name"]: row
        for row in json.loads(CliRunner().invoke(cli, ["plugins", "--json"]).stdout)
    }
    assert rows["typo"]["warnings"] == [MISSPELT.split("(in-process) ")[1]]
    assert rows["typo"]["hooks"] == [] and rows["typo"]["status"] == "loaded"
    assert all(row["warnings"] == [] for name, row in rows.items() if name != "typo")


def test_a_misspelt_hook_is_an_error_in_strict_mode(only_ganzoo, monkeypatch):
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError) as info:
        plugins.register_plugin(Misspelt(), "typo")
    assert str(info.value) == f"{MISSPELT} (GANZOO_STRICT_PLUGINS is set)"
    assert "typo" not in {i.name for i in plugins.plugin_infos()}  # nothing of it is left


def test_a_hook_without_the_marker_and_a_wrong_argument_name(only_ganzoo, capsys):
    class Unmarked:
        def register_datasets(self, register):
            register("never", lambda split, ctx: None)

    class WrongArgument:
        @ganzoo.hookimpl
        def register_models(self, registry):
            pass

    plugins.register_plugin(Unmarked(), "unmarked")
    plugins.register_plugin(WrongArgument(), "wrongarg")
    assert warning_lines(capsys.readouterr().err) == [
        "ganzoo: warning: plugin 'unmarked' (in-process) defines 'register_datasets' without "
        "@ganzoo.hookimpl, so it is never called; decorate it with @ganzoo.hookimpl",
        "ganzoo: warning: plugin 'wrongarg' (in-process) failed to register: "
        "register_models(registry) must take the argument 'register', not 'registry' "
        "(pluggy passes hook arguments by name)",
    ]
    infos = {i.name: i for i in plugins.plugin_infos()}
    assert infos["wrongarg"].status == "failed" and infos["unmarked"].status == "loaded"


# ------------------------------------------------------------ a Config field without a default


@dataclasses.dataclass
class NoDefaults:
    width: int
    lr: float = 0.1
    depth: int = dataclasses.field(default=2)


def test_a_config_field_without_default_is_refused_at_registration(only_ganzoo, capsys):
    plugins.register_plugin(Registers(model_class("fine")), "good")
    plugins.register_plugin(Registers(model_class("nodefault", config=NoDefaults)), "nodef")
    assert set(plugins.registry("register_models")) >= {"fine", "gan"}
    assert "nodefault" not in plugins.registry("register_models")
    assert warning_lines(capsys.readouterr().err) == [
        "ganzoo: warning: plugin 'nodef' (in-process) failed in register_models: model "
        "'nodefault': Config field 'width' has no default; give every field a default (ganzoo "
        "builds Config() and users change values with --set)"
    ]
    (info,) = [i for i in plugins.plugin_infos() if i.name == "nodef"]
    assert info.status == "failed" and "Config field 'width' has no default" in info.error


def test_registering_something_that_is_not_a_model_class(only_ganzoo, capsys):
    plugins.register_plugin(Registers(SmallConfig), "notmodel")
    assert plugins.registry("register_models").get("notmodel") is None
    (line,) = warning_lines(capsys.readouterr().err)
    assert line.startswith(
        "ganzoo: warning: plugin 'notmodel' (in-process) failed in register_models: register() "
        "expects a ganzoo.Model subclass, got <class "
    )


# -------------------------------------------------------------------- the sample() contract


def _samples(make):
    def sample(self, n, generator=None):
        return make(self, n)

    return sample


BAD_SAMPLES = {
    "flat": (
        _samples(lambda m, n: torch.zeros(n, m.spec.dims)),
        "shape 4x784, expected 4x1x28x28 (n x C x H x W)",
    ),
    "bytes": (
        _samples(lambda m, n: torch.zeros(n, 1, 28, 28, dtype=torch.uint8)),
        "dtype uint8, expected float in spec.value_range [-1, 1]",
    ),
    "pixels": (
        _samples(lambda m, n: torch.linspace(0, 255, n * 784).view(n, 1, 28, 28)),
        "values in [0, 255], expected float in spec.value_range [-1, 1] (scale the output into it)",
    ),
    "meta": (
        _samples(lambda m, n: torch.zeros(n, 1, 28, 28, device="meta")),
        "a tensor on meta, expected the model's device cpu",
    ),
    "nan": (
        _samples(lambda m, n: torch.full((n, 1, 28, 28), float("nan"))),
        "non-finite values (NaN or inf)",
    ),
    "array": (
        _samples(lambda m, n: [0.0] * n),
        "a list, expected a tensor 4x1x28x28 float in spec.value_range [-1, 1]",
    ),
}


def sample_error(name: str) -> str:
    return (
        f"model '{name}' (plugin 'bad') sample(4) returned {BAD_SAMPLES[name][1]}; fix its sample()"
    )


@pytest.fixture
def bad_models(only_ganzoo):
    classes = [model_class(name, sample) for name, (sample, _) in BAD_SAMPLES.items()]
    plugins.register_plugin(Registers(*classes), "bad")
    spec = ganzoo.DatasetSpec(1, 28, 28, 10)
    return {cls.name: cls(cls.Config(), spec) for cls in classes}


@pytest.mark.parametrize("name", sorted(BAD_SAMPLES))
def test_samples_that_break_the_contract_are_one_line_naming_the_model(bad_models, name):
    with pytest.raises(ganzoo.GanzooError) as info:
        ganzoo.draw_samples(bad_models[name], 4)
    assert str(info.value) == sample_error(name)


def test_a_tiny_overshoot_is_tolerated_a_scale_error_is_not(only_ganzoo):
    spec = ganzoo.DatasetSpec(1, 8, 8, value_range=(0.0, 1.0))
    for overshoot, ok in ((1e-4, True), (2e-3, False)):
        cls = model_class(
            "edge", _samples(lambda m, n, o=overshoot: torch.full((n, 1, 8, 8), 1 + o))
        )
        model = cls(cls.Config(), spec)
        if ok:
            assert ganzoo.draw_samples(model, 2).max() > 1
        else:
            with pytest.raises(ganzoo.GanzooError, match=r"values in \[1\.002, 1\.002\]"):
                ganzoo.draw_samples(model, 2)


def test_every_caller_samples_through_the_check(bad_models, tmp_path):
    """The trainer's grids, the evaluator and `ganzoo sample` all fail with the same line."""
    data = ganzoo.testing.tiny_data(n=32)
    model = bad_models["pixels"]
    with pytest.raises(ganzoo.GanzooError) as trained:
        options = ganzoo.TrainOptions(steps=2, batch_size=8, quiet=True)
        ganzoo.Trainer(model, data, options, run_dir=tmp_path / "bad-run").fit()
    with pytest.raises(ganzoo.GanzooError) as evaluated:
        ganzoo.evaluate(model, metrics="fid", num_samples=8, write=False)
    expected = sample_error("pixels").replace("sample(4)", "sample({n})")
    assert str(trained.value) == expected.format(n=64)  # the step-0 grid (64 images)
    assert not list((tmp_path / "bad-run").glob("checkpoints/*.pt"))
    assert str(evaluated.value) == expected.format(n=8)

    good = model_class("pixels")  # same name, a correct sampler: train a run to sample from
    options = ganzoo.TrainOptions(steps=1, batch_size=8, quiet=True)
    ganzoo.Trainer(good(SmallConfig(), data.spec), data, options, run_dir=tmp_path / "run").fit()
    grid = tmp_path / "g.png"
    result = CliRunner().invoke(
        cli, ["sample", str(tmp_path / "run"), "--n", "4", "--out", str(grid)]
    )
    assert result.exit_code == 1
    assert result.stderr == f"Error: {sample_error('pixels')}\n"
    assert not grid.exists()


def test_first_party_models_pass_the_sample_check_in_train_and_eval_mode():
    spec = ganzoo.DatasetSpec(1, 8, 8, 10, value_range=(0.0, 1.0))
    for name in ("gan", "dcgan", "wgan-gp", "vae", "transformer"):
        model = ganzoo.build_model(name, spec)
        for training in (True, False):
            model.train(training)
            images = ganzoo.draw_samples(model, 3, torch.Generator().manual_seed(0))
            assert images.shape == (3, 1, 8, 8) and model.training is training


# ------------------------------------------------------- a plugin failing in one hook of several


class ModelsThenBrokenCommand:
    @ganzoo.hookimpl
    def register_models(self, register):
        register(model_class("halfway"))

    @ganzoo.hookimpl
    def register_commands(self, cli):
        @cli.command("halfway-ok")
        def ok():
            click.echo("never added")

        @cli.command("models")  # taken: the whole hook fails, ok() is not added either
        def models():
            pass


class CommandThenBrokenModels:
    @ganzoo.hookimpl
    def register_commands(self, cli):
        @cli.command("orphan")
        def orphan():
            click.echo("should not run")

    @ganzoo.hookimpl
    def register_models(self, register):
        register(model_class("orphangan"))
        raise RuntimeError("no weights for orphangan")


def test_failing_in_register_commands_takes_the_models_too(only_ganzoo, capsys):
    group = type(cli)("g")
    plugins.add_plugin_commands(group)
    plugins.register_plugin(ModelsThenBrokenCommand(), "halfway")
    try:
        assert warning_lines(capsys.readouterr().err) == [
            "ganzoo: warning: plugin 'halfway' (in-process) failed in register_commands: command "
            "'models' already exists; choose another name"
        ]
        assert "halfway-ok" not in group.commands
        with pytest.raises(PluginError, match="unknown model 'halfway'"):
            ganzoo.model_class("halfway")
        assert "gan" in plugins.registry("register_models")  # the others are untouched
    finally:
        plugins.reset()


def test_failing_in_register_models_makes_its_commands_refuse_to_run(only_ganzoo):
    plugins.register_plugin(CommandThenBrokenModels(), "orphaned")
    assert "orphan" in cli.commands  # known to --help, which runs no model hook
    result = CliRunner().invoke(cli, ["orphan"])
    assert result.exit_code == 1 and "should not run" not in result.stdout
    assert result.stderr.splitlines() == [
        "ganzoo: warning: plugin 'orphaned' (in-process) failed in register_models: "
        "RuntimeError: no weights for orphangan",
        "Error: command 'orphan' is unavailable: plugin 'orphaned' (in-process) failed in "
        "register_models: RuntimeError: no weights for orphangan",
    ]
    assert "orphan" not in cli.commands and "orphangan" not in plugins.registry("register_models")


# ---------------------------------------------------------------- tracebacks for the author


DEBUG_PROBE = """
import ganzoo
from ganzoo import plugins

class Broken:
    @ganzoo.hookimpl
    def register_datasets(self, register):
        raise KeyError("deep inside the plugin")

plugins.register_plugin(Broken(), "broken")
plugins.registry("register_datasets")
"""


def run_python(code: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith("GANZOO_") or k == "GANZOO_CACHE"
    }
    environ.update(GANZOO_LOAD_PLUGINS="ganzoo", **env)
    environ["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p or os.getcwd() for p in sys.path])
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=300,
    )


BROKEN_LINE = (
    "ganzoo: warning: plugin 'broken' (in-process) failed in register_datasets: "
    "KeyError: 'deep inside the plugin'"
)


@pytest.mark.parametrize("debug", ["", "1"])
def test_ganzoo_debug_prints_the_plugins_traceback(debug):
    proc = run_python(DEBUG_PROBE, GANZOO_DEBUG=debug)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0] == BROKEN_LINE
    if debug:
        assert lines[1] == "Traceback (most recent call last):"
        assert 'File "<string>", line 8, in register_datasets' in proc.stderr  # the raising line
        assert lines[-1] == "KeyError: 'deep inside the plugin'"
    else:
        assert lines == [BROKEN_LINE]


CLI_PROBE = """
import sys
from ganzoo.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("how", ["plain", "--traceback", "GANZOO_DEBUG"])
def test_traceback_option_shows_where_a_user_error_was_raised(how, tmp_path):
    args = ["train", "--model", "dcgn", "--out", str(tmp_path / "x")]
    env = {"GANZOO_DEBUG": "1"} if how == "GANZOO_DEBUG" else {}
    proc = run_python(CLI_PROBE, *(["--traceback"] if how == "--traceback" else []), *args, **env)
    assert proc.returncode == 1
    last = proc.stderr.splitlines()[-1]
    assert last.startswith("Error: unknown model 'dcgn'. Did you mean: dcgan")
    if how == "plain":
        assert proc.stderr.splitlines() == [last]
    else:
        assert "Traceback (most recent call last):" in proc.stderr
        assert 'ganzoo/plugins/registries.py", line' in proc.stderr  # where it was raised
        assert "ganzoo.errors.PluginError: unknown model 'dcgn'" in proc.stderr


# --------------------------------------------------------------------------- plugins directory


IDEA = """
import dataclasses

import click
import ganzoo


@dataclasses.dataclass
class IdeaConfig:
    width: int = 3


@ganzoo.hookimpl
def register_models(register):
    import torch

    class Idea(ganzoo.Model):
        name = "idea"
        family = "sketch"
        description = "an idea in a plain .py file"
        Config = IdeaConfig

    register(Idea)


@ganzoo.hookimpl
def register_commands(cli):
    @cli.command("idea-hello")
    def hello():
        click.echo("hello from a plugins directory")
"""


@pytest.mark.slow
def test_plugins_dir_files_load_as_plugins_with_their_path(tmp_path):
    folder = tmp_path / "ideas"
    folder.mkdir()
    (folder / "idea.py").write_text(textwrap.dedent(IDEA))
    (folder / "_helper.py").write_text("raise RuntimeError('a helper is not a plugin')\n")
    (folder / "broken.py").write_text("raise ImportError('half-written idea')\n")
    path = str((folder / "idea.py").resolve())
    for how in ("--plugins-dir", "GANZOO_PLUGINS_DIR"):
        args = ["--plugins-dir", str(folder)] if how == "--plugins-dir" else []
        env = {"GANZOO_PLUGINS_DIR": str(folder)} if how == "GANZOO_PLUGINS_DIR" else {}
        proc = run_python(CLI_PROBE, *args, "plugins", "--json", **env)
        assert proc.returncode == 0, proc.stderr
        rows = {row["name"]: row for row in json.loads(proc.stdout)}
        assert rows["idea"] == {
            "name": "idea", "distribution": None, "version": None, "path": path,
            "hooks": ["register_commands", "register_models"], "status": "loaded", "error": None,
            "warnings": [],
        }  # fmt: skip
        assert rows["broken"]["status"] == "failed" and "_helper" not in rows
        assert warning_lines(proc.stderr) == [
            f"ganzoo: warning: plugin 'broken' (file {folder.resolve() / 'broken.py'}) failed to "
            "import: ImportError: half-written idea"
        ]
        text = run_python(CLI_PROBE, *args, "plugins", **env).stdout
        assert f"idea  [file {path}]  loaded\n" in text
        hello = run_python(CLI_PROBE, *args, "idea-hello", **env)
        assert (hello.returncode, hello.stdout) == (0, "hello from a plugins directory\n")


def test_a_missing_plugins_dir_is_one_line(tmp_path):
    proc = run_python(CLI_PROBE, "--plugins-dir", str(tmp_path / "nope"), "models")
    assert proc.returncode == 1
    assert proc.stderr == f"Error: --plugins-dir {str(tmp_path / 'nope')!r} is not a directory\n"
