"""The plugin registry: discovery, GANZOO_LOAD_PLUGINS, isolation of broken plugins, clashes.

In-process tests put real ``*.dist-info`` directories on ``sys.path`` (entry
points are discovered exactly as for an installed package); the slow tests at
the end pip-install a real distribution and drive the ``ganzoo`` CLI in a
subprocess.
"""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo import PluginError, plugins

REPO = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- helpers


def make_model(name: str, family: str = "test"):
    @dataclass
    class TinyConfig:
        width: int = 8
        lr: float = 1e-3

    return type(
        f"Model_{name}",
        (ganzoo.Model,),
        {"name": name, "family": family, "description": f"{name} for tests", "Config": TinyConfig},
    )


class ModelsPlugin:
    """An in-process plugin registering the given classes, then optionally failing."""

    def __init__(self, *classes, aliases=(), fail_with: Exception | None = None):
        self.classes = classes
        self.aliases = aliases
        self.fail_with = fail_with

    @ganzoo.hookimpl
    def register_models(self, register):
        for cls in self.classes:
            register(cls, aliases=self.aliases)
        if self.fail_with is not None:
            raise self.fail_with


def warnings_about(stderr: str, plugin: str) -> list[str]:
    return [line for line in stderr.splitlines() if f"plugin {plugin!r}" in line]


@pytest.fixture
def isolated(monkeypatch):
    """No installed plugin at all (GANZOO_LOAD_PLUGINS=''), a fresh manager before and after."""
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "")
    monkeypatch.delenv("GANZOO_STRICT_PLUGINS", raising=False)
    plugins.reset()
    yield
    plugins.reset()


@pytest.fixture
def fake_dist(tmp_path, monkeypatch, isolated):
    """Write a distribution (dist-info with entry points + modules) onto sys.path."""
    created: list[str] = []

    def make(dist: str, version: str, modules: dict[str, str]) -> dict[str, str]:
        suffix = uuid.uuid4().hex[:8]
        names = {ep: f"gz_{ep}_{suffix}" for ep in modules}
        for ep, source in modules.items():
            (tmp_path / f"{names[ep]}.py").write_text(textwrap.dedent(source))
        info = tmp_path / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        eps = "".join(f"{ep} = {mod}\n" for ep, mod in names.items())
        (info / "entry_points.txt").write_text(f"[ganzoo]\n{eps}")
        created.extend(names.values())
        return names

    monkeypatch.syspath_prepend(str(tmp_path))
    yield make
    for name in created:
        sys.modules.pop(name, None)


GOOD_MODULE = """
    import ganzoo

    @ganzoo.hookimpl
    def register_datasets(register):
        register("fakeset", lambda split, ctx: None, description="d", source="s")
"""

BROKEN_IMPORT_MODULE = """
    raise RuntimeError("kaput on import")
"""


# --------------------------------------------------------------------------- discovery


def test_entry_points_are_discovered_with_distribution_version_and_hooks(fake_dist, monkeypatch):
    fake_dist("gz-fake", "1.2.3", {"fakeplug": GOOD_MODULE})
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "GZ.Fake")  # normalised like pip does
    infos = {info.name: info for info in plugins.plugin_infos()}
    assert set(infos) == {"fakeplug"}
    assert infos["fakeplug"].as_dict() == {
        "name": "fakeplug",
        "distribution": "gz-fake",
        "version": "1.2.3",
        "path": None,
        "hooks": ["register_datasets"],
        "status": "loaded",
        "error": None,
        "warnings": [],
    }
    assert "fakeset" in plugins.registry("register_datasets")


@pytest.mark.parametrize("allowed", ["ganzoo", "", "someone-else"])
def test_ganzoo_load_plugins_excludes_other_distributions(fake_dist, monkeypatch, allowed):
    fake_dist("gz-fake", "1.0", {"fakeplug": GOOD_MODULE})
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", allowed)
    names = {info.name for info in plugins.plugin_infos()}
    assert "fakeplug" not in names
    if allowed != "ganzoo":
        assert names == set()  # empty means none at all, not even ganzoo's own


def test_plugins_load_once(fake_dist, monkeypatch):
    names = fake_dist("gz-fake", "1.0", {"fakeplug": GOOD_MODULE})
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "gz-fake")
    plugins.load_plugins()
    first = sys.modules[names["fakeplug"]]
    plugins.load_plugins()
    plugins.registry("register_datasets")
    assert sys.modules[names["fakeplug"]] is first
    assert [name for name, _ in plugins.pm.list_name_plugin()] == ["fakeplug"]


# --------------------------------------------------------------------------- isolation


def test_plugin_failing_on_import_is_reported_once_and_others_work(fake_dist, monkeypatch, capsys):
    fake_dist("gz-fake", "1.0", {"fakeplug": GOOD_MODULE, "brokenimp": BROKEN_IMPORT_MODULE})
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "gz-fake")
    infos = {info.name: info for info in plugins.plugin_infos()}
    assert "fakeset" in plugins.registry("register_datasets")
    lines = warnings_about(capsys.readouterr().err, "brokenimp")
    assert len(lines) == 1
    assert lines[0].startswith("ganzoo: warning:")
    assert "RuntimeError: kaput on import" in lines[0] and "gz-fake" in lines[0]
    assert infos["brokenimp"].status == "failed"
    assert infos["brokenimp"].error == "RuntimeError: kaput on import"
    assert infos["fakeplug"].status == "loaded"


def test_plugin_failing_in_hook_registers_nothing_and_others_work(isolated, capsys):
    plugins.register_plugin(ModelsPlugin(make_model("okgan")), "good")
    half = ModelsPlugin(make_model("halfgan"), fail_with=ValueError("bad\nthings"))
    plugins.register_plugin(half, "half")
    assert ganzoo.model_class("okgan").name == "okgan"
    names = set(plugins.registry("register_models"))
    assert names == {"okgan"}  # halfgan was registered before the failure: discarded
    lines = warnings_about(capsys.readouterr().err, "half")
    assert lines == [
        "ganzoo: warning: plugin 'half' (in-process) failed in register_models: ValueError: bad things"
    ]
    infos = {info.name: info for info in plugins.plugin_infos()}
    assert infos["half"].status == "failed" and infos["half"].error == "ValueError: bad things"
    assert infos["good"].status == "loaded"
    with pytest.raises(PluginError, match="unknown model 'halfgan'"):
        ganzoo.model_class("halfgan")


def test_non_string_name_is_a_plugin_failure(isolated, capsys):
    class BadNames:
        @ganzoo.hookimpl
        def register_datasets(self, register):
            register(5, object())

    plugins.register_plugin(BadNames(), "badnames")
    assert plugins.registry("register_datasets") == {}
    assert "non-empty strings" in warnings_about(capsys.readouterr().err, "badnames")[0]


def test_strict_mode_makes_import_failure_fatal(fake_dist, monkeypatch):
    fake_dist("gz-fake", "1.0", {"brokenimp": BROKEN_IMPORT_MODULE})
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "gz-fake")
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError) as info:
        plugins.load_plugins()
    message = str(info.value)
    assert "'brokenimp'" in message and "kaput on import" in message
    assert "GANZOO_STRICT_PLUGINS" in message


def test_strict_mode_makes_hook_failure_fatal(isolated, monkeypatch):
    plugins.register_plugin(ModelsPlugin(fail_with=KeyError("x")), "half")
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="'half'.*register_models.*KeyError"):
        plugins.registry("register_models")


@pytest.mark.parametrize("value", ["0", "false", ""])
def test_strict_mode_off_values(isolated, monkeypatch, capsys, value):
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", value)
    plugins.register_plugin(ModelsPlugin(fail_with=KeyError("x")), "half")
    assert plugins.registry("register_models") == {}
    assert len(warnings_about(capsys.readouterr().err, "half")) == 1


def test_strict_mode_in_cli_is_one_line_without_traceback(isolated, monkeypatch):
    from ganzoo.cli import cli

    plugins.register_plugin(ModelsPlugin(fail_with=RuntimeError("nope")), "half")
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: plugin 'half'")
    assert "RuntimeError: nope" in lines[0]
    assert "Traceback" not in result.output


# --------------------------------------------------------------------------- names


def test_name_clash_names_both_plugins(isolated):
    plugins.register_plugin(ModelsPlugin(make_model("clashgan"), make_model("agan")), "alpha")
    plugins.register_plugin(ModelsPlugin(make_model("clashgan"), make_model("bgan")), "beta")
    with pytest.raises(PluginError) as info:
        ganzoo.model_class("clashgan")
    message = str(info.value)
    assert "'alpha'" in message and "'beta'" in message and "GANZOO_LOAD_PLUGINS" in message
    # the rest of both plugins is unaffected
    assert ganzoo.model_class("agan").name == "agan"
    assert ganzoo.model_class("bgan").name == "bgan"


def test_models_command_names_every_clashing_plugin_whatever_the_order(isolated):
    from ganzoo.cli import cli

    seen = []
    for order in (("alpha", "beta"), ("beta", "alpha")):
        plugins.reset()
        for name in order:  # each plugin's class differs, so whose row is shown is visible
            plugins.register_plugin(ModelsPlugin(make_model("clashgan", f"{name}-family")), name)
        text, as_json = (CliRunner().invoke(cli, ["models", *args]) for args in ([], ["--json"]))
        assert text.exit_code == 0 and as_json.exit_code == 0, text.output + as_json.output
        with pytest.raises(PluginError) as info:
            ganzoo.model_class("clashgan")
        seen.append((text.stdout, as_json.stdout, str(info.value)))
    assert seen[0] == seen[1]
    text, as_json, error = seen[0]
    (row,) = json.loads(as_json)
    assert row["conflicts"] == ["alpha", "beta"] and row["plugin"] == "alpha"
    assert "[alpha, beta]" in text and "CONFLICT: registered by plugins alpha and beta" in text
    assert "model 'clashgan' is registered by plugins 'alpha' and 'beta';" in error


def test_unregister_removes_the_clash(isolated):
    plugins.register_plugin(ModelsPlugin(make_model("clashgan")), "alpha")
    plugins.register_plugin(ModelsPlugin(make_model("clashgan")), "beta")
    plugins.unregister_plugin("beta")
    assert plugins.lookup("register_models", "clashgan", "model").plugin == "alpha"


def test_aliases(isolated):
    cls = make_model("longname")
    plugins.register_plugin(ModelsPlugin(cls, aliases=("ln",)), "alias")
    assert ganzoo.model_class("ln") is cls
    assert plugins.registry("register_models")["ln"].extra == {"alias_of": "longname"}


def test_unknown_model_suggests_close_matches(isolated):
    plugins.register_plugin(ModelsPlugin(make_model("testgan"), make_model("testvae")), "t")
    with pytest.raises(PluginError) as info:
        ganzoo.model_class("testgn")
    message = str(info.value)
    assert "unknown model 'testgn'" in message and "Did you mean: testgan" in message
    assert "Known models: testgan, testvae." in message


def test_unknown_model_with_nothing_registered(isolated):
    with pytest.raises(PluginError, match="are the plugins installed"):
        ganzoo.model_class("dcgan")


def test_typo_of_a_first_party_model_suggests_it(monkeypatch):
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "ganzoo")
    plugins.reset()
    try:
        entry = plugins.registry("register_models").get("dcgan")
        assert entry is not None, "the first-party GAN plugin does not register dcgan"
        assert entry.plugin == "gan" and not entry.conflicts
        with pytest.raises(PluginError, match="Did you mean: .*dcgan"):
            ganzoo.model_class("dcgn")
    finally:
        plugins.reset()


# --------------------------------------------------------------------------- commands


class HelloCommands:
    """A plugin adding one command, ``hello``."""

    @ganzoo.hookimpl
    def register_commands(self, cli):
        @cli.command("hello")
        def hello() -> None:
            click.echo("hello")


def test_plugin_commands_are_added_and_cannot_shadow_others(isolated, capsys):
    from ganzoo.cli import GanzooGroup

    group = GanzooGroup("g")

    @group.command("models")
    def original() -> None:
        click.echo("original")

    class Shadow:
        @ganzoo.hookimpl
        def register_commands(self, cli):
            @cli.command("models")
            def models() -> None:
                click.echo("shadow")

    plugins.register_plugin(HelloCommands(), "cmds")
    plugins.register_plugin(Shadow(), "shadow")
    plugins.add_plugin_commands(group)
    assert CliRunner().invoke(group, ["hello"]).output == "hello\n"
    assert CliRunner().invoke(group, ["models"]).output == "original\n"
    (line,) = warnings_about(capsys.readouterr().err, "shadow")
    assert "command 'models' already exists" in line
    assert {i.name: i.status for i in plugins.plugin_infos()} == {
        "cmds": "loaded",
        "shadow": "failed",
    }


def test_reset_is_one_call_back_to_nothing_loaded(isolated):
    group = click.Group("g")
    plugins.add_plugin_commands(group)
    plugins.register_plugin(HelloCommands(), "cmds")
    assert plugins.registry("register_datasets") == {} and "hello" in group.commands
    plugins.reset()
    state = plugins.STATE
    assert "hello" not in group.commands and plugins.pm.get_plugins() == set()
    assert (state.infos, state.staged, state.registries, state.loaded) == ({}, {}, {}, False)
    assert (state.command_owners, state.commands_done) == ({}, set())
    plugins.register_plugin(HelloCommands(), "cmds")  # the name is free again; its commands return
    assert "hello" in group.commands


# --------------------------------------------------------------------------- installed


INSTALLED_GOOD = '''
import click

import ganzoo


@ganzoo.hookimpl
def register_models(register):
    from dataclasses import dataclass

    @dataclass
    class ZzConfig:
        width: int = 4
        lr: float = 0.001

    class ZzTiny(ganzoo.Model):
        name = "zztiny"
        family = "test"
        description = "A tiny model from an installed test plugin."
        Config = ZzConfig

    register(ZzTiny)


@ganzoo.hookimpl
def register_commands(cli):
    @cli.command("zzhello")
    @click.option("--fail", is_flag=True)
    def zzhello(fail):
        """Say hello from the installed test plugin."""
        if fail:
            raise ganzoo.GanzooError("zzhello was told to fail; drop --fail")
        click.echo("hello from the zz plugin")
'''

INSTALLED_BROKEN_IMPORT = 'raise ImportError("zz cannot be imported")\n'

INSTALLED_BROKEN_HOOK = """
import ganzoo


@ganzoo.hookimpl
def register_models(register):
    raise RuntimeError("zz hook exploded")
"""


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A real distribution with three ganzoo entry points, pip-installed, removed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    dist = f"ganzoo-zz-test-{suffix}"
    mods = {
        "zzgood": f"zz_good_{suffix}",
        "zzbrokenimport": f"zz_broken_import_{suffix}",
        "zzbrokenhook": f"zz_broken_hook_{suffix}",
    }
    src = tmp_path_factory.mktemp("zzdist")
    (src / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [build-system]
            requires = ["setuptools>=64"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "{dist}"
            version = "0.0.7"

            [project.entry-points.ganzoo]
            zzgood = "{mods["zzgood"]}"
            zzbrokenimport = "{mods["zzbrokenimport"]}"
            zzbrokenhook = "{mods["zzbrokenhook"]}"

            [tool.setuptools]
            py-modules = {json.dumps(list(mods.values()))}
            """
        )
    )
    (src / f"{mods['zzgood']}.py").write_text(INSTALLED_GOOD)
    (src / f"{mods['zzbrokenimport']}.py").write_text(INSTALLED_BROKEN_IMPORT)
    (src / f"{mods['zzbrokenhook']}.py").write_text(INSTALLED_BROKEN_HOOK)
    _pip("install", "--no-deps", "--no-build-isolation", "--no-index", str(src))
    try:
        yield dist
    finally:
        _pip("uninstall", "-y", dist)


def ganzoo_cli(*args: str, load: str | None, strict: bool = False):
    """Run the real console entry point in a fresh interpreter."""
    env = dict(os.environ)
    env.pop("GANZOO_STRICT_PLUGINS", None)
    env.pop("GANZOO_LOAD_PLUGINS", None)
    if load is not None:
        env["GANZOO_LOAD_PLUGINS"] = load
    if strict:
        env["GANZOO_STRICT_PLUGINS"] = "1"
    paths = [str(REPO)] + [p or os.getcwd() for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return subprocess.run(
        [sys.executable, "-c", "from ganzoo.cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )


@pytest.mark.slow
def test_installed_plugin_is_discovered(installed):
    load = f"ganzoo,{installed}"
    proc = ganzoo_cli("plugins", "--json", load=load)
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    good = rows["zzgood"]
    assert good["distribution"] == installed and good["version"] == "0.0.7"
    assert good["hooks"] == ["register_commands", "register_models"]
    assert good["status"] == "loaded" and good["error"] is None
    assert rows["zzbrokenimport"]["status"] == "failed"
    assert rows["zzbrokenimport"]["error"] == "ImportError: zz cannot be imported"
    assert rows["zzbrokenhook"]["status"] == "failed"
    assert rows["zzbrokenhook"]["error"] == "RuntimeError: zz hook exploded"
    # ganzoo's own plugins are still listed next to the third-party ones
    assert any(row["distribution"] == "ganzoo" for row in rows.values())
    for name in ("zzbrokenimport", "zzbrokenhook"):
        (line,) = warnings_about(proc.stderr, name)
        assert installed in line
    assert "Traceback" not in proc.stderr

    proc = ganzoo_cli("models", "--json", load=installed)
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["name"] == "zztiny" and row["plugin"] == "zzgood" and row["family"] == "test"
    assert row["hyperparameters"] == [
        {"name": "width", "type": "int", "default": 4},
        {"name": "lr", "type": "float", "default": 0.001},
    ]

    proc = ganzoo_cli("zzhello", load=installed)
    assert (proc.returncode, proc.stdout) == (0, "hello from the zz plugin\n")

    proc = ganzoo_cli("zzhello", "--fail", load=installed)
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("ganzoo: warning")]
    assert errors == ["Error: zzhello was told to fail; drop --fail"]


@pytest.mark.slow
@pytest.mark.parametrize("load", ["ganzoo", ""])
def test_installed_plugin_not_loaded_unless_allowed(installed, load):
    proc = ganzoo_cli("plugins", "--json", load=load)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert not [row for row in rows if row["distribution"] == installed]
    assert "zz" not in proc.stderr
    if load == "":
        assert rows == []
    else:
        assert rows and all(row["distribution"] == "ganzoo" for row in rows)
    proc = ganzoo_cli("zzhello", load=load)
    assert proc.returncode == 2 and "No such command 'zzhello'" in proc.stderr


@pytest.mark.slow
def test_installed_broken_plugin_is_fatal_in_strict_mode(installed):
    proc = ganzoo_cli("plugins", load=installed, strict=True)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error: plugin 'zzbroken")
    assert "GANZOO_STRICT_PLUGINS" in lines[0]
    assert proc.stdout == ""


@pytest.mark.slow
def test_traceback_option_shows_where_an_installed_plugin_failed(installed):
    plain = ganzoo_cli("plugins", load=installed)
    traced = ganzoo_cli("--traceback", "plugins", load=installed)
    assert plain.returncode == traced.returncode == 0
    assert "Traceback" not in plain.stderr
    warned = [line for line in plain.stderr.splitlines() if line.startswith("ganzoo: warning:")]
    assert [
        line for line in traced.stderr.splitlines() if line.startswith("ganzoo: warning:")
    ] == warned
    # Both failures happen while ganzoo imports its plugins, before --traceback is parsed:
    # their tracebacks follow once it is.
    assert traced.stderr.count("Traceback (most recent call last):") == 2
    assert "ImportError: zz cannot be imported" in traced.stderr
    assert (
        "in register_models" in traced.stderr and "RuntimeError: zz hook exploded" in traced.stderr
    )
