"""A model folder's config.json cannot make ganzoo allocate without bound, or print a traceback.

Each case starts from a shipped pretrained folder (copied, so it is a plain
folder on disk), damages its ``config.json`` or its weights file's header in one
way a hostile or careless hand could, and runs ``ganzoo sample FOLDER``: the
exit status is 1, stderr is one ``Error:`` line naming what is wrong, nothing is
written and the folder is unchanged.  The worst cases (configs that made the
old loader allocate gigabytes before it looked at the weights) run in their own
process, whose peak memory is measured.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load, save

import ganzoo
from ganzoo.cli import cli
from ganzoo.errors import GanzooError
from ganzoo.load.registry import pretrained_models

GiB = 2**30


def shipped() -> dict[str, Path]:
    """The folders of the models ganzoo ships, by name."""
    return {name: entry.folder for name, entry in pretrained_models().items()}


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def edit_config(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        config = json.loads((folder / "config.json").read_text())
        change(config)
        (folder / "config.json").write_text(json.dumps(config))

    return edit


def hparams(**values) -> Callable[[Path], None]:
    return edit_config(lambda c: c["hyperparameters"].update(values))


def spec(**values) -> Callable[[Path], None]:
    return edit_config(lambda c: c["spec"].update(values))


def top(**values) -> Callable[[Path], None]:
    return edit_config(lambda c: c.update(values))


def deep_json(folder: Path) -> None:
    (folder / "config.json").write_text("[" * 200_000 + "]" * 200_000)


def reshaped_weights(folder: Path) -> None:
    """Weights of another shape, their sha256 recorded: only the shapes are wrong."""
    tensors = load((folder / "model.safetensors").read_bytes())
    tensors["G.model.0.weight"] = torch.zeros(256, 50)
    data = save(tensors)
    (folder / "model.safetensors").write_bytes(data)
    top(weights_sha256=hashlib.sha256(data).hexdigest())(folder)


def header_length(length: int) -> Callable[[Path], None]:
    def change(folder: Path) -> None:
        data = bytearray((folder / "model.safetensors").read_bytes())
        data[:8] = struct.pack("<Q", length)
        (folder / "model.safetensors").write_bytes(bytes(data))

    return change


def offsets_past_the_end(folder: Path) -> None:
    """A header whose one tensor claims bytes the file does not have."""
    header = json.dumps(
        {"G.model.0.weight": {"dtype": "F32", "shape": [256, 100], "data_offsets": [0, 102400]}}
    ).encode()
    (folder / "model.safetensors").write_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 8)


# (id, shipped folder, damage, a fragment of the one error line)
CASES = [
    # --- the cases
    ("g-hidden-1e9", "gan", hparams(g_hidden=[10**9, 128]), "the model has (1000000000, 100)"),
    ("spec-height-1e6", "gan", spec(height=10**6), "28,000,000 values each"),
    (
        "g-hidden-1e18",
        "gan",
        hparams(g_hidden=[10**18, 128]),
        "Storage size calculation overflowed",
    ),
    ("negative-channels", "dcgan", spec(channels=-3), "spec channels must be a positive integer"),
    ("format-string", "dcgan", top(ganzoo_format="1"), "ganzoo_format must be a positive integer"),
    ("format-null", "dcgan", top(ganzoo_format=None), "ganzoo_format must be a positive integer"),
    ("step-abc", "dcgan", top(step="abc"), "step must be a training step"),
    ("sha-int", "dcgan", top(weights_sha256=123), "weights_sha256 must be the 64 lowercase hex"),
    ("deep-nesting", "dcgan", deep_json, "config.json cannot be read as JSON (nested too deeply)"),
    (
        "header-shapes",
        "gan",
        reshaped_weights,
        "G.model.0.weight is (256, 50), the model has (256, 100)",
    ),
    (
        "header-length-huge",
        "gan",
        header_length(2**62),
        "its header claims 4,611,686,018,427,387,904",
    ),
    # --- more of what a hostile config.json can hold
    ("spec-height-1e5", "gan", spec(height=10**5), "the model has (2800000, 1024)"),
    ("d-hidden-1e9", "gan", hparams(d_hidden=[10**9]), "not in model.safetensors"),
    ("d-hidden-2e6", "gan", hparams(d_hidden=[2 * 10**6]), "not in model.safetensors"),
    ("100k-layers", "gan", hparams(g_hidden=[1] * 100_000), "more than 20,000 layers"),
    ("spec-not-an-object", "dcgan", top(spec=[1, 28, 28]), "spec must be an object"),
    ("spec-unknown-key", "dcgan", spec(depth=3), "unknown key 'depth'"),
    ("value-range-one-number", "dcgan", spec(value_range=[0]), "value_range must be two"),
    ("value-range-nan", "dcgan", spec(value_range=[float("nan"), 1]), "value_range must be two"),
    ("num-classes-1e9", "dcgan-cond", spec(num_classes=10**9), "num_classes must be null or 1"),
    ("hyperparameters-a-list", "dcgan", top(hyperparameters=[1]), "hyperparameters must be"),
    ("hyperparameter-huge-float", "dcgan", hparams(lr_g=10**400), "OverflowError"),
    ("transformer-patch-1e6", "transformer", hparams(patch_size=10**6), "fewer than 2 levels"),
    ("transformer-1e6-layers", "transformer", hparams(n_layers=10**6), "more than 20,000 layers"),
    ("ddpm-timesteps-1e9", "ddpm", hparams(timesteps=10**9), "not in model.safetensors"),
    ("header-length-past-file", "gan", header_length(10**7), "but the file holds"),
    ("header-offsets-past-file", "gan", offsets_past_the_end, "does not fit its bytes 0..102400"),
]


def damaged(tmp_path: Path, base: str, damage: Callable[[Path], None]) -> Path:
    folder = tmp_path / f"{base}-damaged"
    shutil.copytree(shipped()[f"{base}-mnist5k"], folder)
    damage(folder)
    return folder


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_one_line(result, fragment: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def test_the_case_ids_are_unique():
    assert len({case[0] for case in CASES}) == len(CASES)


@contextlib.contextmanager
def bounded_memory() -> Iterator[None]:
    """At most 3 GiB more address space inside, so a regression fails, not the machine.

    Without the checks, some of these folders make torch allocate 6 to 23 GB.
    """
    try:
        size = next(
            int(line.split()[1]) * 1024
            for line in Path("/proc/self/status").read_text().splitlines()
            if line.startswith("VmSize:")
        )
    except (OSError, StopIteration):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + 3 * GiB if hard == resource.RLIM_INFINITY else min(size + 3 * GiB, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@pytest.mark.parametrize(
    "base, damage, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_hostile_folder_is_one_line_and_writes_nothing(tmp_path, base, damage, fragment):
    folder = damaged(tmp_path, base, damage)
    before = snapshot(tmp_path)
    start = time.monotonic()
    with bounded_memory():
        result = invoke("sample", folder, "--out", tmp_path / "x.png")
    assert time.monotonic() - start < 60
    assert_one_line(result, fragment)
    assert snapshot(tmp_path) == before  # no x.png, the folder untouched


def test_from_pretrained_and_eval_refuse_the_same_way(tmp_path):
    folder = damaged(tmp_path, "gan", spec(height=10**5))
    with bounded_memory(), pytest.raises(GanzooError, match=r"the model has \(2800000, 1024\)"):
        ganzoo.from_pretrained(folder)
    with bounded_memory():
        result = invoke("eval", folder, "--metrics", "fid")
    assert_one_line(result, "the model has (2800000, 1024)")


def test_a_pretrained_name_goes_through_the_same_checks(tmp_path):
    folder = damaged(tmp_path, "gan", spec(height=10**5))

    class Zoo:
        @ganzoo.hookimpl
        def register_pretrained(self, register):
            register("hostile-gan", folder, sha256=None, description="a damaged folder")

    ganzoo.register_plugin(Zoo(), "hostile-zoo")
    try:
        with bounded_memory():
            result = invoke("sample", "hostile-gan", "--out", tmp_path / "x.png")
    finally:
        ganzoo.unregister_plugin("hostile-zoo")
    assert_one_line(result, "the model has (2800000, 1024)")
    assert not (tmp_path / "x.png").exists()


def test_the_shipped_models_pass_the_checks():
    assert len(shipped()) >= 7
    for folder in shipped().values():  # test_shipped.py samples them
        assert isinstance(ganzoo.from_pretrained(folder), ganzoo.Model)


def peak_of_ganzoo(args: list[object], cwd: Path) -> tuple[int, str, int]:
    """(exit status, stderr, peak resident bytes) of ``ganzoo ARGS`` in its own process.

    The child caps its own address space at 8 GiB first, so a regression fails
    with an allocation error instead of exhausting the machine.  The peak is the
    child's own VmHWM, written as it exits: ``ru_maxrss`` would not do, because
    Linux carries the parent's high-water mark across fork and exec (a test run
    late in a large suite then "peaks" at the size of pytest itself).
    """
    start = (
        "import atexit, resource, runpy, sys; "
        f"resource.setrlimit(resource.RLIMIT_AS, ({8 * GiB}, {8 * GiB})); "
        "hwm = lambda: next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')); "
        "atexit.register(lambda: open('peak.txt', 'w').write(hwm().split()[1])); "
        "sys.argv[0] = 'ganzoo'; runpy.run_module('ganzoo', run_name='__main__')"
    )
    command = [sys.executable, "-c", start, *map(str, args)]
    with open(cwd / "stderr.txt", "wb") as err:
        code = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err).returncode
    stderr = (cwd / "stderr.txt").read_text()
    (cwd / "stderr.txt").unlink()
    peak = cwd / "peak.txt"
    assert peak.is_file(), f"the child did not report its peak memory:\n{stderr}"
    kib = int(peak.read_text())
    peak.unlink()
    return code, stderr, kib * 1024


# Configs the old loader built before reading the weights: 9 GB, 11 GB and 6 GB of networks.
WORST = ["g-hidden-1e7", "spec-height-1e5", "d-hidden-2e6"]


@pytest.mark.parametrize("case", WORST)
def test_the_worst_cases_stay_within_bounded_memory(tmp_path, case):
    damage = {
        "g-hidden-1e7": hparams(g_hidden=[10**7, 128]),
        "spec-height-1e5": spec(height=10**5),
        "d-hidden-2e6": hparams(d_hidden=[2 * 10**6]),
    }[case]
    folder = damaged(tmp_path, "gan", damage)
    code, stderr, peak = peak_of_ganzoo(["sample", folder, "--out", "x.png"], tmp_path)
    assert code == 1, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "does not fit" in lines[0], stderr
    assert not (tmp_path / "x.png").exists()
    # Importing torch and the plugins is ~0.7 GB; the networks asked for are 6 to 11 GB.
    assert peak < 1.5 * GiB, f"peak resident memory {peak / GiB:.2f} GiB"


def _unwritable_parent(tmp_path: Path) -> Path:
    """A folder nobody can create anything in: a read-only one, or /sys when running as root."""
    if os.geteuid() != 0:
        parent = tmp_path / "read-only"
        parent.mkdir()
        parent.chmod(0o555)
        return parent
    try:  # chmod does not stop root; sysfs refuses new folders to everyone
        os.rmdir(tempfile.mkdtemp(dir="/sys"))
    except OSError:
        return Path("/sys")
    pytest.skip("running as root with no folder that refuses writes (no /sys)")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("export") / "run"
    train = ["train", "--model", "gan", "--batch-size", "16", "--steps", "2", "-q", "--out", run]
    assert invoke(*train).exit_code == 0
    return run


def test_export_to_a_read_only_destination_is_one_line(run, tmp_path):
    parent = _unwritable_parent(tmp_path)
    try:
        result = invoke("export", run, "--out", parent / "my-gan")
        assert_one_line(
            result, f"cannot write the model folder '{parent / 'my-gan'}' in '{parent}'"
        )
        assert not (parent / "my-gan").exists()
        assert not list(parent.glob(".my-gan.*"))  # no temporary sibling left behind
    finally:
        if parent.is_relative_to(tmp_path):
            parent.chmod(0o755)


def test_export_below_a_file_is_one_line(run, tmp_path):
    (tmp_path / "afile").write_text("a file where a folder is expected")
    result = invoke("export", run, "--out", tmp_path / "afile" / "sub" / "my-gan")
    assert_one_line(result, f"in '{tmp_path / 'afile'}' (it is a file)")


def test_a_folder_naming_local_files_as_its_dataset_does_not_point_eval_at_them(tmp_path):
    """A downloaded folder's ``npz:/dev/zero`` must not become the reference ganzoo reads."""
    folder = damaged(tmp_path, "gan", edit_config(lambda c: c.update(dataset="npz:/dev/zero")))
    loaded = ganzoo.load_run(folder)
    assert loaded.dataset == ""
    result = invoke("eval", folder, "--metrics", "fid", "--num-samples", "40", "--num-real", "40")
    assert result.exit_code == 0, result.output
    assert "files of the machine that exported it" in result.stderr
    assert "mnist5k:test" in result.stdout  # the default reference, not the folder's path
