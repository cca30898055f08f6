"""`ganzoo plugin new`: what it writes works as written, installed like any distribution.

The round trip generates one plugin of each kind, pip-installs them into a
private ``--target`` directory (no network, nothing added to the virtualenv),
runs their own tests in a fresh pytest, and trains the generated model through
the real ``ganzoo`` command with GANZOO_LOAD_PLUGINS naming it next to ganzoo.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli
from ganzoo.scaffold import KINDS, render, write_plugin
from ganzoo.track.fanout import Trackers

REPO = Path(__file__).resolve().parents[1]


def test_every_kind_renders_python_that_compiles():
    files = render("my-idea", list(KINDS))
    assert sorted(files) == [
        "README.md", "ganzoo_my_idea/__init__.py", "ganzoo_my_idea/dataset.py",
        "ganzoo_my_idea/extractor.py", "ganzoo_my_idea/model.py", "ganzoo_my_idea/tracker.py",
        "pyproject.toml", "tests/test_ganzoo_my_idea.py",
    ]  # fmt: skip
    for path, text in files.items():
        assert "__NAME__" not in text and "__PACKAGE__" not in text and "__CLASS__" not in text
        if path.endswith(".py"):
            compile(text, path, "exec")
    assert 'my-idea = "ganzoo_my_idea"' in files["pyproject.toml"]
    assert "class MyIdeaModel(ganzoo.Model):" in files["ganzoo_my_idea/model.py"]
    assert render("solo", ["command"]).keys() == {
        "README.md", "ganzoo_solo/__init__.py", "pyproject.toml", "tests/test_ganzoo_solo.py"
    }  # fmt: skip


def test_ganzoo_check_is_suggested_only_for_kinds_it_checks(tmp_path):
    assert "ganzoo check zz" in render("zz", ["tracker", "model"])["README.md"]
    for kinds in (["tracker"], ["command"], ["tracker", "command"]):
        readme = render("zz", kinds)["README.md"]
        assert "ganzoo check" not in readme and "pytest tests  " in readme, kinds
    result = CliRunner().invoke(
        cli, ["plugin", "new", "zz", "--kind", "tracker", "--out", str(tmp_path / "p")]
    )
    assert result.exit_code == 0, result.output
    assert (
        result.stdout.splitlines()[-1]
        == f"next: pip install -e {tmp_path / 'p'} && pytest {tmp_path / 'p' / 'tests'}"
    )


def test_the_generated_tracker_works_through_the_fan_out(tmp_path, monkeypatch, capfd):
    write_plugin("zzcsv", ["tracker"], tmp_path / "plugin")
    monkeypatch.syspath_prepend(str(tmp_path / "plugin"))
    monkeypatch.delitem(sys.modules, "ganzoo_zzcsv", raising=False)
    monkeypatch.delitem(sys.modules, "ganzoo_zzcsv.tracker", raising=False)
    import ganzoo_zzcsv

    run, grid = tmp_path / "run", tmp_path / "grid.png"
    run.mkdir()

    def rows() -> list[tuple[str, str, str]]:
        with open(run / "zzcsv.csv", newline="") as fh:
            return [(r["step"], r["key"], r["value"]) for r in csv.DictReader(fh)]

    ganzoo.register_plugin(ganzoo_zzcsv, "zzcsv")
    try:
        trackers = Trackers(("zzcsv",), run, {"model": "gan"})
        for step in (2, 4):
            trackers.log_scalars(step, {"G/loss": 0.5 * step})
        trackers.log_image(4, "samples", grid)
        trackers.log_results(4, {"metrics": {"fid": 9.5}}, None)
        trackers.finish()
        assert rows() == [
            ("2", "G/loss", "1.0"), ("4", "G/loss", "2.0"), ("4", "image:samples", str(grid)),
            ("4", "results/fid", "9.5"),
        ]  # fmt: skip
        resumed = Trackers(("zzcsv",), run, {"model": "gan"}, resumed_from=2)
        resumed.log_scalars(4, {"G/loss": 2.0})
        resumed.finish()
        assert rows() == [("2", "G/loss", "1.0"), ("4", "G/loss", "2.0")]
        scored = Trackers(("zzcsv",), run, {"model": "gan"})  # as ganzoo eval starts it
        scored.log_results(4, {"metrics": {"fid": 9.0}}, None)
        scored.finish()
        assert rows()[:2] == [("2", "G/loss", "1.0"), ("4", "G/loss", "2.0")]
        assert rows()[2:] == [("4", "results/fid", "9.0")]
    finally:
        ganzoo.unregister_plugin("zzcsv")
    assert "tracker" not in capfd.readouterr().err  # no call failed


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["My_GAN"], "Error: plugin name 'My_GAN': use lowercase letters and digits, words joined by - or _ (e.g. mygan, my-gan)\n"),
        (["ok", "--kind", "model,scheduler"], "Error: unknown --kind scheduler; choose from model, dataset, extractor, tracker, command\n"),
    ],
)  # fmt: skip
def test_bad_names_and_kinds_are_one_line(args, error, tmp_path):
    result = CliRunner().invoke(
        cli, ["plugin", "new", *args, "--out", str(tmp_path / "p")], prog_name="ganzoo"
    )
    assert (result.exit_code, result.stderr) == (1, error)
    assert not (tmp_path / "p").exists()


def test_it_never_writes_into_a_folder_that_holds_files(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["plugin", "new", "x", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"Error: {str(tmp_path)!r} already exists and is not empty; choose another --out\n"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def clean_env(site: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GANZOO_") or k == "GANZOO_CACHE"
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(site), str(REPO)] + [p or os.getcwd() for p in sys.path]
    )
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("scaffold")
    for kind in KINDS:
        result = CliRunner().invoke(
            cli, ["plugin", "new", f"zz{kind}", "--kind", kind, "--out", str(root / kind)]
        )
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith(f"wrote {root / kind} ({kind}):")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps",
         "--no-build-isolation", "--no-index", "--target", str(root / "site"),
         *(str(root / kind) for kind in KINDS)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return root


@pytest.mark.slow
def test_each_generated_plugin_passes_its_own_tests(generated):
    tests = [str(generated / kind / "tests") for kind in KINDS]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        capture_output=True, text=True, cwd=generated, env=clean_env(generated / "site"), timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    # 3 model, 2 dataset, 2 extractor, 1 tracker, 1 command
    assert "9 passed" in proc.stdout.splitlines()[-1], proc.stdout


@pytest.mark.slow
def test_the_generated_model_trains_through_the_ganzoo_command(generated, tmp_path):
    env = clean_env(
        generated / "site", GANZOO_LOAD_PLUGINS="ganzoo,ganzoo-zzmodel", GANZOO_STRICT_PLUGINS="1"
    )

    def ganzoo(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "ganzoo", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,
        )

    listed = ganzoo("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = [r for r in json.loads(listed.stdout) if r["distribution"] == "ganzoo-zzmodel"]
    assert (row["name"], row["version"], row["status"], row["hooks"]) == (
        "zzmodel",
        "0.1.0",
        "loaded",
        ["register_models"],
    )
    trained = ganzoo(
        "train", "--model", "zzmodel", "--steps", "3", "--batch-size", "16", "--out", "run", "-q"
    )
    assert trained.returncode == 0, trained.stderr
    assert (tmp_path / "run" / "checkpoints" / "step-00000003.pt").is_file()
    last = json.loads((tmp_path / "run" / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 3 and {"D/loss", "D/p_real", "G/loss"} <= set(last)
    checked = ganzoo("check", "zzmodel")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert [line.split(":")[0] for line in checked.stdout.splitlines()][
        -1
    ] == "PASS import-without-torch"
