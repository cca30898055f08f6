"""The ``ganzoo`` command line: fast help, plugin and model listings, one-line user errors."""

import importlib.metadata
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

import click
import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo import plugins
from ganzoo.cli import cli

REPO = Path(__file__).resolve().parents[1]

# What pyproject.toml declares, not what happens to be installed: a stale or broken
# install then fails these tests instead of making their loops run over nothing.
with (REPO / "pyproject.toml").open("rb") as _fh:
    DECLARED = tomllib.load(_fh)["project"]["entry-points"]["ganzoo"]
BUILTINS = set(DECLARED)
#: The model families the README promises; each must be registered by a built-in plugin.
FIRST_PARTY_MODELS = {"gan", "dcgan", "wgan-gp", "vae", "transformer"}

PROBE = """
import json, sys
from ganzoo import plugins
from ganzoo.cli import main
codes = {}
for args in (["--help"], ["--version"]):
    sys.argv = ["ganzoo", *args]
    try:
        main()
    except SystemExit as exc:
        codes[args[0]] = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision", "torch_fidelity"))
infos = {info.name: info.error for info in plugins.plugin_infos(run_hooks=False)}
print("RESULT " + json.dumps({"codes": codes, "heavy": heavy, "plugins": infos}))
"""


def run(*args: str):
    result = CliRunner().invoke(cli, list(args))
    return result


def test_help_and_version_do_not_import_torch():
    env = dict(os.environ, GANZOO_LOAD_PLUGINS="ganzoo")
    env.pop("GANZOO_STRICT_PLUGINS", None)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p or os.getcwd() for p in sys.path])
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out, _, result = proc.stdout.rpartition("RESULT ")
    result = json.loads(result)
    assert "Usage: ganzoo" in out and "plugins" in out and "models" in out
    assert f"ganzoo, version {ganzoo.__version__}" in out
    assert result["codes"] == {"--help": 0, "--version": 0}
    # The plugins were really imported (else the check below proves nothing) ...
    assert set(result["plugins"]) == BUILTINS
    assert {name: err for name, err in result["plugins"].items() if err} == {}
    # ... and still nothing heavy came with them.
    assert result["heavy"] == []


def test_installed_entry_points_are_the_declared_ones():
    installed = {
        ep.name: ep.value
        for ep in importlib.metadata.entry_points(group="ganzoo")
        if ep.dist is not None and ep.dist.name == "ganzoo"
    }
    assert BUILTINS, "pyproject.toml declares no ganzoo entry points"
    assert installed == DECLARED, "reinstall ganzoo (pip install -e .): its metadata is stale"


def test_plugins_json_lists_the_builtins():
    result = run("plugins", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == {
            "name", "distribution", "version", "path", "hooks", "status", "error", "warnings"
        }  # fmt: skip
        assert row["status"] in ("loaded", "failed")
        assert (row["status"] == "failed") == (row["error"] is not None)
    ours = {row["name"]: row for row in rows if row["distribution"] == "ganzoo"}
    assert set(ours) == BUILTINS
    assert {row["version"] for row in ours.values()} == {ganzoo.__version__}
    for name, row in ours.items():
        assert row["status"] == "loaded", f"built-in plugin {name} failed: {row['error']}"
        assert row["hooks"], f"built-in plugin {name} implements no hook"
        # every hook listed is a hookspec (a misnamed one is a warning, never a hook)
        assert set(row["hooks"]) <= {
            name for name, caller in vars(plugins.pm.hook).items() if caller.spec is not None
        }


def test_plugins_text():
    result = run("plugins")
    assert result.exit_code == 0, result.output
    for name in BUILTINS:
        assert f"{name}  [ganzoo {ganzoo.__version__}]  loaded" in result.stdout
    assert result.stdout.count("  hooks: ") == result.stdout.count("]  ")


@dataclass
class CliConfig:
    width: int = 8
    betas: tuple[float, float] = (0.5, 0.9)
    mode: str = "fast"


class CliTestPlugin:
    @ganzoo.hookimpl
    def register_models(self, register):
        cls = type(
            "CliModel",
            (ganzoo.Model,),
            {
                "name": "clitestgan",
                "family": "testfam",
                "description": "A model that exists only in this test.",
                "Config": CliConfig,
                "default_batch_size": 16,
            },
        )
        register(cls, aliases=("ctg",))


@pytest.fixture
def test_model():
    plugins.register_plugin(CliTestPlugin(), "clitest")
    try:
        yield
    finally:
        plugins.unregister_plugin("clitest")


def test_models_json_schema(test_model):
    result = run("models", "--json")
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    for row in rows.values():
        for key in ("name", "family", "plugin", "description", "hyperparameters"):
            assert key in row
        assert isinstance(row["description"], str) and "\n" not in row["description"]
        for param in row["hyperparameters"]:
            assert set(param) == {"name", "type", "default"}
    row = rows["clitestgan"]
    assert row["family"] == "testfam" and row["plugin"] == "clitest"
    assert row["description"] == "A model that exists only in this test."
    assert row["batch_size"] == 16 and row["conflicts"] == [] and row["alias_of"] is None
    assert row["zoo_steps"] is None  # declares no budget: the zoo measures what fits
    assert rows["ddpm"]["zoo_steps"] == 1500  # the budget `ganzoo zoo` trains it for
    assert row["hyperparameters"] == [
        {"name": "width", "type": "int", "default": 8},
        {"name": "betas", "type": "tuple[float, float]", "default": [0.5, 0.9]},
        {"name": "mode", "type": "str", "default": "fast"},
    ]
    assert rows["ctg"]["alias_of"] == "clitestgan"


def test_models_json_lists_first_party_models():
    result = run("models", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    first_party = [row for row in rows if row["plugin"] in BUILTINS]
    names = {row["name"] for row in first_party}
    assert not FIRST_PARTY_MODELS - names, f"not registered: {sorted(FIRST_PARTY_MODELS - names)}"
    for row in first_party:
        assert row["family"] and row["description"] and not row["conflicts"]
        assert row["hyperparameters"], f"{row['name']} declares no hyperparameters"


def test_models_text_and_verbose(test_model):
    plain = run("models")
    assert plain.exit_code == 0, plain.output
    line = next(ln for ln in plain.stdout.splitlines() if ln.startswith("clitestgan "))
    assert "testfam" in line and "[clitest]" in line and "exists only in this test" in line
    assert "(alias of clitestgan)" in plain.stdout
    assert "ganzoo models -v" in plain.stdout
    assert "width: int = 8" not in plain.stdout
    verbose = run("models", "-v")
    assert "    width: int = 8" in verbose.stdout
    assert "    betas: tuple[float, float] = (0.5, 0.9)" in verbose.stdout


@pytest.fixture
def extra_command():
    """A throw-away command that resolves --set into a config, like train will."""

    @click.command("zzconfig")
    @click.option("--set", "sets", multiple=True)
    @click.option("--bug", is_flag=True)
    def zzconfig(sets, bug):
        from ganzoo.config import resolve

        if bug:
            raise RuntimeError("a genuine bug")
        click.echo(resolve(CliConfig, sets))

    cli.add_command(zzconfig)
    try:
        yield
    finally:
        cli.commands.pop("zzconfig")


def test_user_error_is_one_line_without_traceback(extra_command):
    ok = run("zzconfig", "--set", "width=3")
    assert ok.exit_code == 0 and "width=3" in ok.stdout
    result = run("zzconfig", "--set", "width=abc")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: bad value 'abc' for 'width' (expected int)")
    assert "Valid keys: width: int = 8; betas: tuple[float, float]" in lines[0]
    assert isinstance(result.exception, SystemExit)
    malformed = run("zzconfig", "--set", "width")
    assert malformed.exit_code == 1
    assert malformed.stderr == "Error: --set expects key=value, got 'width'\n"


def test_bugs_are_not_disguised_as_user_errors(extra_command):
    result = run("zzconfig", "--bug")
    assert isinstance(result.exception, RuntimeError)


def test_unknown_command_and_option():
    result = run("no-such-command")
    assert result.exit_code == 2 and "No such command" in result.stderr
    result = run("models", "--no-such-option")
    assert result.exit_code == 2 and "No such option" in result.stderr


def test_builtin_commands_cannot_be_replaced():
    @click.command("models")
    def models() -> None:
        pass

    with pytest.raises(ganzoo.PluginError, match="'models' already exists"):
        cli.add_command(models)
    assert cli.commands["models"] is not models


class WandbLike:
    """A third party's tracker plugin whose library is its own pip package."""

    @ganzoo.hookimpl
    def register_trackers(self, register):
        register("wandblike", ganzoo.Tracker, description="A service (test).", extra="wandb")


def test_trackers_name_what_to_install_ganzoo_extra_or_third_party_package():
    plugins.register_plugin(WandbLike(), "wandblike")
    try:
        result = run("trackers")
        listed = {row["name"]: row for row in json.loads(run("trackers", "--json").stdout)}
    finally:
        plugins.unregister_plugin("wandblike")
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert lines["wandblike"].endswith("A service (test). (pip install 'wandb')")
    assert lines["mlflow"].endswith("(pip install 'ganzoo[mlflow]')")
    assert lines["jsonl"].endswith("always on.")
    assert (listed["wandblike"]["extra"], listed["wandblike"]["install"]) == ("wandb", "wandb")
    assert listed["tensorboard"]["install"] == "ganzoo[tensorboard]"
