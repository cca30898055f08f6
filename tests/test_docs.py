"""docs/plugins.md's complete examples work: built, pip-installed and driven through the CLI.

Each code block of the examples is preceded in the Markdown by a comment
``<!-- example-file: DIST/PATH -->`` naming the distribution and the file it
belongs to.  The test writes those files as distributions (a model and a
command in ``ganzoo-tinygan``, a dataset and a feature extractor in
``ganzoo-shapes``), pip-installs them into a private ``--target``
directory (no network, nothing added to the virtualenv, so other tests never see
it), and runs the real ``ganzoo`` command in fresh interpreters that have that
directory on ``PYTHONPATH``, with ``GANZOO_LOAD_PLUGINS`` naming the example's
distribution next to ``ganzoo`` and ``GANZOO_STRICT_PLUGINS=1``, so a plugin
failure is an error rather than a warning.
"""

from __future__ import annotations

import ast
import csv
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

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
PLUGINS_MD = REPO / "docs" / "plugins.md"
EXAMPLE_MARK = "<!-- example-file: "
#: The files of the example distributions, as docs/plugins.md lists them (DIST/PATH).
EXAMPLE_FILES = {
    "ganzoo-tinygan/pyproject.toml",
    "ganzoo-tinygan/ganzoo_tinygan/__init__.py",
    "ganzoo-tinygan/ganzoo_tinygan/model.py",
    "ganzoo-tinygan/tests/test_tinygan.py",
    "ganzoo-shapes/pyproject.toml",
    "ganzoo-shapes/ganzoo_shapes/__init__.py",
    "ganzoo-shapes/ganzoo_shapes/data.py",
    "ganzoo-shapes/ganzoo_shapes/pixels.py",
    "ganzoo-csvtracker/pyproject.toml",
    "ganzoo-csvtracker/ganzoo_csvtracker/__init__.py",
    "ganzoo-csvtracker/ganzoo_csvtracker/csv_tracker.py",
}


def example_files(text: str) -> dict[str, str]:
    """``{path: content}`` of every marked code block in ``text``."""
    lines = text.splitlines()
    files: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not line.startswith(EXAMPLE_MARK):
            continue
        name = line[len(EXAMPLE_MARK) :].strip().removesuffix("-->").strip()
        fence = lines[i + 1] if i + 1 < len(lines) else ""
        assert fence.startswith("```"), f"{name}: the marker must be followed by a ``` block"
        try:
            end = lines.index("```", i + 2)
        except ValueError:
            raise AssertionError(f"{name}: its code block is never closed") from None
        assert name not in files, f"{name} is marked twice"
        files[name] = "\n".join(lines[i + 2 : end]) + "\n"
    return files


# --------------------------------------------------------------------------- README


def environment_reads(source: str) -> set[str]:
    """Names of the environment variables ``source`` reads through ``os.environ``/``os.getenv``."""
    tree = ast.parse(source)
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name) and isinstance(node.value.value, str)
    }

    def text(arg: ast.expr) -> str | None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        return constants.get(arg.id) if isinstance(arg, ast.Name) else None

    def is_environ(node: ast.expr) -> bool:
        return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
            isinstance(node, ast.Name) and node.id == "environ"
        )

    names = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args and isinstance(node.func, ast.Attribute):
            func = node.func
            if (func.attr == "get" and is_environ(func.value)) or func.attr == "getenv":
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and is_environ(node.value):
            key = node.slice
        if key is not None:
            name = text(key)
            assert name is not None, f"an environment read ganzoo cannot name: {ast.dump(key)}"
            names.add(name)
    return names


def test_environment_reads_finds_each_form():
    source = (
        'import os\nfrom os import environ\nENV = "C"\n'
        'os.environ.get("A")\nos.getenv("B", "x")\nos.environ.get(ENV)\nenviron["D"]\n'
    )
    assert environment_reads(source) == {"A", "B", "C", "D"}


def test_readme_documents_every_environment_variable_the_code_reads():
    files = sorted((REPO / "ganzoo").rglob("*.py")) + sorted((REPO / "plugins").rglob("*.py"))
    read = set().union(*(environment_reads(f.read_text(encoding="utf-8")) for f in files))
    assert {"GANZOO_CACHE", "GANZOO_LOAD_PLUGINS", "GANZOO_OFFLINE", "XDG_CACHE_HOME"} <= read
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    documented = {
        line.split("|")[1].strip().strip("`")
        for line in section.splitlines()
        if line.startswith("| `")
    }
    assert not read - documented, f"missing from README's table: {sorted(read - documented)}"


# --------------------------------------------------------------------------- docs/plugins.md


def test_example_files_are_found_in_the_markdown():
    files = example_files(PLUGINS_MD.read_text(encoding="utf-8"))
    assert set(files) == EXAMPLE_FILES
    for name, source in files.items():
        if name.endswith(".py"):
            compile(source, name, "exec")  # a syntax error here would fail obscurely later


def test_example_files_parser_reads_only_marked_blocks():
    text = "intro\n```python\nx = 0\n```\n<!-- example-file: a/b.py -->\n```python\ny = 1\n\nz = 2\n```\n"
    assert example_files(text) == {"a/b.py": "y = 1\n\nz = 2\n"}


@dataclass
class Installed:
    """The model example (``ganzoo-tinygan``), and every example distribution installed with it."""

    dist: str
    version: str
    entry_points: dict[str, str]
    site: Path
    work: Path
    dists: list[str]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    files = example_files(PLUGINS_MD.read_text(encoding="utf-8"))
    root = tmp_path_factory.mktemp("doc-example")
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    sources = sorted({name.split("/", 1)[0] for name in files})
    site = root / "site-packages"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q",
         "--no-deps", "--no-build-isolation", "--no-index", "--target", str(site),
         *(str(root / source) for source in sources)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, f"pip install of the docs examples failed:\n{proc.stderr}"
    projects = {s: tomllib.loads(files[f"{s}/pyproject.toml"])["project"] for s in sources}
    project = projects["ganzoo-tinygan"]
    return Installed(
        dist=project["name"],
        version=project["version"],
        entry_points=project["entry-points"]["ganzoo"],
        site=site,
        work=root,
        dists=[p["name"] for p in projects.values()],
    )


def ganzoo_env(example: Installed) -> dict[str, str]:
    env = dict(os.environ)
    env["GANZOO_LOAD_PLUGINS"] = ",".join(["ganzoo", *example.dists])
    env["GANZOO_STRICT_PLUGINS"] = "1"
    paths = [str(example.site), str(REPO)] + [p or os.getcwd() for p in sys.path]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def ganzoo_cli(example: Installed, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *args],
        capture_output=True,
        text=True,
        env=ganzoo_env(example),
        cwd=example.work,
        timeout=300,
    )


@pytest.mark.slow
def test_the_example_is_installed_only_into_its_target(installed):
    import importlib.metadata

    assert (installed.site / "ganzoo_tinygan" / "model.py").is_file()
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution(installed.dist)  # not in this interpreter's path


@pytest.fixture(scope="module")
def models(installed) -> dict[str, dict]:
    proc = ganzoo_cli(installed, "models", "--json")
    assert proc.returncode == 0, proc.stderr
    return {row["name"]: row for row in json.loads(proc.stdout)}


@pytest.mark.slow
def test_the_example_plugin_loads_and_registers_its_model(installed, models):
    proc = ganzoo_cli(installed, "plugins", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert set(installed.entry_points) == {"tinygan"}
    assert rows["shapes"]["hooks"] == ["register_datasets", "register_feature_extractors"]
    row = rows["tinygan"]
    assert row["distribution"] == installed.dist and row["version"] == installed.version
    assert row["status"] == "loaded" and row["error"] is None
    assert row["hooks"] == ["register_commands", "register_models"]
    assert all(r["status"] == "loaded" for r in rows.values()), rows

    ours = {name: row for name, row in models.items() if row["plugin"] == "tinygan"}
    assert set(ours) == {"tinygan", "tiny"}
    assert ours["tiny"]["alias_of"] == "tinygan" and ours["tinygan"]["alias_of"] is None
    assert ours["tinygan"]["family"] == "gan" and not ours["tinygan"]["conflicts"]
    assert ours["tinygan"]["hyperparameters"] == [
        {"name": "z_dim", "type": "int", "default": 32},
        {"name": "hidden", "type": "int", "default": 128},
        {"name": "lr", "type": "float", "default": 0.0002},
        {"name": "betas", "type": "tuple[float, float]", "default": [0.5, 0.999]},
    ]


LAZY_PROBE = """
import sys
from ganzoo import plugins
import ganzoo.cli  # loads every allowed plugin and adds their commands, as --help does
assert "tinygan-info" in ganzoo.cli.cli.commands, sorted(ganzoo.cli.cli.commands)
tinygan = {i.name: i for i in plugins.plugin_infos(run_hooks=False)}["tinygan"]
assert tinygan.error is None, tinygan.error
print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "torchvision")))
"""


@pytest.mark.slow
def test_the_example_plugin_imports_no_torch_until_used(installed):
    proc = ganzoo_cli(installed, "--help")
    assert proc.returncode == 0 and "tinygan-info" in proc.stdout, proc.stderr
    env = ganzoo_env(installed)
    probe = subprocess.run(
        [sys.executable, "-c", LAZY_PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "[]", "importing the example plugin imported torch"


@pytest.mark.slow
def test_the_example_command_runs(installed, models):
    defaults = {p["name"]: p["default"] for p in models["tinygan"]["hyperparameters"]}
    z, hidden, dims = defaults["z_dim"], defaults["hidden"], 1 * 28 * 28  # mnist5k
    proc = ganzoo_cli(installed, "tinygan-info")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "tinygan on mnist5k (1x28x28):",
        f"  generator: {z * hidden + hidden + hidden * dims + dims} parameters",
        f"  discriminator: {dims * hidden + hidden + hidden + 1} parameters",
    ]


@pytest.mark.slow
def test_the_example_model_trains_and_samples(installed, models, tmp_path):
    assert "tinygan" in models
    run = tmp_path / "run"
    proc = ganzoo_cli(
        installed, "train", "--model", "tinygan", "--steps", "3", "--batch-size", "16",
        "--out", str(run),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    info = json.loads((run / "run.json").read_text())
    assert info["model"] == "tinygan" and info["dataset"] == "mnist5k"
    assert (run / "checkpoints" / "step-00000003.pt").is_file()
    assert (run / "samples" / "step-00000003.png").is_file()
    last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["step"] == 3
    for key in ("discriminator/loss", "discriminator/d_loss", "generator/g_loss"):
        assert np.isfinite(last[key]), key

    grid = tmp_path / "grid.png"
    proc = ganzoo_cli(installed, "sample", str(run), "--n", "4", "--out", str(grid))
    assert proc.returncode == 0, proc.stderr
    assert "from step 3" in proc.stdout
    assert Image.open(grid).size == (2 * 30 + 2, 2 * 30 + 2)
    raw = tmp_path / "samples.npz"
    proc = ganzoo_cli(installed, "sample", str(run), "--n", "4", "--out", str(raw))
    assert proc.returncode == 0, proc.stderr
    images = np.load(raw)["images"]
    assert images.shape == (4, 28, 28, 1) and images.dtype == np.uint8
    assert len({image.tobytes() for image in images}) == 4, "four samples, four different images"


@pytest.mark.slow
def test_the_tracker_example_gets_every_row_of_a_resumed_and_scored_run(installed, tmp_path):
    listed = ganzoo_cli(installed, "trackers", "--json")
    (row,) = [r for r in json.loads(listed.stdout) if r["name"] == "csv"]
    assert row["plugin"] == "csvtracker"
    run = tmp_path / "run"
    train = ["train", "--model", "gan", "--batch-size", "16", "--log-every", "2", "-q"]
    train += ["--checkpoint-every", "2", "--tracker", "csv", "--out", str(run)]
    for steps in ("4", "6"):  # trained to 4, then resumed to 6
        proc = ganzoo_cli(installed, *train, "--steps", steps)
        assert proc.returncode == 0, proc.stderr
    # ganzoo eval starts the run's trackers again (resumed_from None): the rows must survive.
    proc = ganzoo_cli(installed, "eval", str(run), "--metrics", "fid", "--num-samples", "40")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    expected = [(r["step"], k, v) for r in rows for k, v in r.items() if k != "step"]
    with open(run / "scalars.csv", newline="") as fh:
        written = [(int(r["step"]), r["name"], float(r["value"])) for r in csv.DictReader(fh)]
    assert written == expected and [s for s, _, _ in written][-1] == 6


@pytest.mark.slow
def test_the_dataset_and_extractor_example_pass_ganzoo_check(installed):
    for args in (["shapes:16"], ["pixels"]):
        proc = ganzoo_cli(installed, "check", *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = proc.stdout.splitlines()
        assert lines and all(line.startswith("PASS ") for line in lines), lines
    proc = ganzoo_cli(installed, "extractors", "--json")
    (row,) = [r for r in json.loads(proc.stdout) if r["name"] == "pixels"]
    assert row["plugin"] == "shapes" and row["metrics"] == ["fid", "kid", "pr"]
    bad = ganzoo_cli(installed, "check", "shapes:4")
    assert "FAIL loads: use shapes:SIZE with SIZE from 8 to 128 pixels, not '4'" in bad.stdout


@pytest.mark.slow
def test_the_model_trains_on_the_example_dataset_and_is_scored_by_its_extractor(
    installed, tmp_path
):
    run = tmp_path / "run"
    proc = ganzoo_cli(
        installed, "train", "--model", "tinygan", "--dataset", "shapes:16", "--steps", "3",
        "--batch-size", "16", "--out", str(run), "-q",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads((run / "run.json").read_text())["spec"]["height"] == 16
    proc = ganzoo_cli(
        installed, "eval", str(run), "--extractor", "pixels", "--metrics", "fid,kid", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["protocol"]["extractor"]["name"] == "pixels"
    assert result["protocol"]["reference"] == {
        "dataset": "shapes:16", "split": "test", "num_images": 101, "subset_seed": None,
    }  # fmt: skip
    assert result["metrics"]["frechet_inception_distance"] > 0
    no_is = ganzoo_cli(installed, "eval", str(run), "--extractor", "pixels", "--metrics", "is")
    assert no_is.returncode == 1
    assert no_is.stderr.splitlines()[-1] == (
        "Error: feature extractor 'pixels' has no layer for is; it serves fid, kid, pr"
    )


@pytest.mark.slow
def test_the_testing_example_runs_with_ganzoos_pytest_fixtures(installed):
    tests = installed.work / "ganzoo-tinygan" / "tests"
    env = {k: v for k, v in ganzoo_env(installed).items() if k != "GANZOO_LOAD_PLUGINS"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        capture_output=True, text=True, env=env, cwd=installed.work, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1].startswith("2 passed"), proc.stdout


# --------------------------------------------------------------------------- README example


def readme_python_example() -> str:
    """The first ```python block of README.md, the library example new users copy."""
    text = (REPO / "README.md").read_text()
    start = text.index("```python\n") + len("```python\n")
    return text[start : text.index("```", start)]


@pytest.mark.slow
def test_the_readme_python_example_runs_as_written(tmp_path):
    env = {**os.environ, "GANZOO_LOAD_PLUGINS": "ganzoo", "PYTHONUNBUFFERED": "1"}
    env.pop("GANZOO_STRICT_PLUGINS", None)
    proc = subprocess.run(
        [sys.executable, "-c", readme_python_example()],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "runs" / "dcgan" / "checkpoints" / "step-00000200.pt").is_file()
    fid, interval = proc.stdout.strip().splitlines()[-1].split(" ", 1)
    low, high = json.loads(interval)
    assert 0 < low <= float(fid) <= high < 20  # 10.0 measured after 200 steps; untrained ~28


# --------------------------------------------------------------------------- docs/evaluation.md


def test_the_compare_example_of_evaluation_md_runs_as_written(monkeypatch):
    """``ganzoo.compare`` on the shipped dcgan and gan, as docs/evaluation.md shows it."""
    import re

    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    text = (REPO / "docs" / "evaluation.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- run: compare -->\s*```python\n(.*?)```", text, re.DOTALL)
    assert found, "docs/evaluation.md lost its ganzoo.compare example"
    namespace: dict = {}
    exec(compile(found.group(1), "docs/evaluation.md", "exec"), namespace)  # noqa: S102
    fid = namespace["fid"]
    assert fid.separated and fid.difference < 0 and fid.interval[1] < 0
    assert "A's FID is lower by" in fid.verdict
