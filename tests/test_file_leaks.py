"""No local file leaks into a board page, a board's samples folder or an exported model folder.

A board JSON, a result file and a run directory may be someone else's (a
committed board that CI publishes, a downloaded run).  Every file they name is
read only when it resolves inside the folder it belongs to, is a regular file
and decodes as a PNG of bounded size; anything else costs the row its picture,
never its numbers, with one warning naming the path and why (issue 23).  The
board is real: a tiny trained run scored by ``ganzoo eval leaderboard``.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, PngImagePlugin

from ganzoo import leaderboard as lb
from ganzoo.cli import cli

STEM = "mnist5k-lenet-mnist"
SCORE = ["--num-samples", "60"]
SECRET = b"TOPSECRET-issue-23-token-do-not-publish"
URI = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]*)")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("ganzoo: warning:")]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """(run, boards): a tiny gan run with its latest checkpoint scored, and its board folder
    (which holds the scored real-data floor, copied so that no test scores it again)."""
    root = tmp_path_factory.mktemp("leaks")
    run = root / "gan"
    sets = ["--set", "g_hidden=[32]", "--set", "d_hidden=[32]", "--set", "latent_dim=8"]
    common = ["--steps", "4", "--checkpoint-every", "2", "--sample-every", "2", "-q"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GANZOO_OFFLINE", "1")
        trained = invoke("train", "-m", "gan", "--out", run, *sets, *common, "--device", "cpu")
        assert trained.exit_code == 0, trained.output
        built = invoke("eval", "leaderboard", run, *SCORE, "--out", root / "boards")
    assert built.exit_code == 0, built.output
    return run, root / "boards"


def fresh_boards(scored, out: Path) -> Path:
    """A board folder holding only the cached floor of the fixture's protocol."""
    shutil.copytree(scored[1] / "floors", out / "floors")
    return out


def secret_png(path: Path) -> Path:
    """A real PNG outside every run and board, with the secret in a text chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("token", SECRET.decode())
    Image.new("L", (8, 8), 7).save(path, pnginfo=info)
    assert SECRET in path.read_bytes()
    return path


def assert_no_leak(text: str | bytes) -> None:
    """Neither the secret nor its base64 is in ``text``, and no inline image holds it."""
    data = text.encode() if isinstance(text, str) else text
    assert SECRET not in data and base64.b64encode(SECRET) not in data
    for encoded in URI.findall(data.decode(errors="replace")):
        assert SECRET not in base64.b64decode(encoded)


def assert_no_leak_in(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert_no_leak(path.read_bytes())


# ------------------------------------------------------- a board JSON naming files


def _fifo(out: Path, tmp: Path) -> str:
    os.mkfifo(out / "fifo.png")
    return "fifo.png"


def _text(out: Path, tmp: Path) -> str:
    (out / "notes.png").write_bytes(b"not a picture: " + SECRET)
    return "notes.png"


def _link(out: Path, tmp: Path) -> str:
    (out / "link.png").symlink_to(secret_png(tmp / "secret.png"))
    return "link.png"


def _large(out: Path, tmp: Path) -> str:
    noise = Image.frombytes("RGB", (1800, 1800), os.urandom(1800 * 1800 * 3))
    noise.save(out / "large.png", compress_level=0)
    assert (out / "large.png").stat().st_size > 8 * 2**20
    return "large.png"


def _pixels(out: Path, tmp: Path) -> str:
    Image.new("1", (5000, 5000)).save(out / "pixels.png")  # a few KiB, 25 megapixels
    return "pixels.png"


def _named(name: str):
    return lambda out, tmp: name


CASES = {
    "etc-hostname": (_named("/etc/hostname"), "outside the board folder"),
    "parent-secret": (_named("../../../secret.txt"), "outside the board folder"),
    "proc-environ": (_named("/proc/self/environ"), "outside the board folder"),
    "dev-zero": (_named("/dev/zero"), "outside the board folder"),
    "fifo": (_fifo, "it is a FIFO"),
    "not-png": (_text, "it is not a PNG image"),
    "symlink-out": (_link, "outside the board folder"),
    "too-large": (_large, "it is larger than 8 MiB"),
    "too-many-pixels": (_pixels, "it is 5000x5000 pixels"),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", list(CASES))
def test_a_board_row_naming_another_file_keeps_its_numbers_and_loses_its_picture(
    scored, tmp_path, case
):
    make, reason = CASES[case]
    (tmp_path / "secret.txt").write_bytes(SECRET)
    out = tmp_path / "a" / "b" / "boards"  # ../../../secret.txt is tmp_path/secret.txt
    shutil.copytree(scored[1], out)
    grid = make(out, tmp_path)
    board_file = out / f"{STEM}.json"
    board = json.loads(board_file.read_text())
    (row,) = [r for r in board["rows"] if r.get("sample_grid")]
    row["sample_grid"] = grid
    board_file.write_text(json.dumps(board))

    shown = invoke("leaderboard", "--format", "html", "--dir", out)

    assert shown.exit_code == 0, shown.output
    page = shown.stdout
    assert f'data-value="{float(row["fid"])!r}"' in page  # the row keeps its numbers
    assert '<img alt="samples' not in page  # and loses its picture
    assert_no_leak(page)
    # The only pictures left are the board's own figures, byte for byte: nothing else was embedded.
    figures = [(out / f"{STEM}-{name}.png").read_bytes() for name in ("cost", "curves")]
    assert [base64.b64decode(u) for u in URI.findall(page)] == figures
    (line,) = warnings(shown)
    assert f"sample grid '{out / grid}' left out: " in line and reason in line


def test_eval_leaderboard_rewrites_a_page_without_a_gone_runs_named_file(scored, tmp_path):
    """A committed board's rows of a gone run keep their ``sample_grid``: the rebuilt page checks it."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    out = tmp_path / "a" / "b" / "boards"
    shutil.copytree(scored[1], out)
    board_file = out / f"{STEM}.json"
    board = json.loads(board_file.read_text())
    for row in board["rows"]:
        row["run"], row["sample_grid"] = "../gone", "../../../secret.txt"
    board_file.write_text(json.dumps(board))
    shutil.copytree(scored[0], tmp_path / "runs" / "gan")

    built = invoke("eval", "leaderboard", tmp_path / "runs" / "gan", *SCORE, "--out", out)

    assert built.exit_code == 0, built.output
    rows = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert {r["run"] for r in rows} == {"../gone", "../../../runs/gan"}
    assert_no_leak_in(out)
    # The gone run's rows are kept but shown only with --all-checkpoints: that page checks it.
    shown = invoke("leaderboard", "--dir", out, "--all-checkpoints", "--format", "html")
    assert shown.exit_code == 0 and SECRET.decode(errors="ignore") not in shown.output
    (line,) = warnings(shown)
    assert f"'{out / '../../../secret.txt'}' left out: " in line
    assert "outside the board folder" in line


# ------------------------------------------------------- a run's symlinked grid


@pytest.mark.timeout(120)
def test_a_symlinked_grid_in_a_run_reaches_neither_the_board_nor_the_export(scored, tmp_path):
    run = tmp_path / "runs" / "gan"
    shutil.copytree(scored[0], run)
    step = max(int(p.stem.split("-")[1]) for p in (run / "checkpoints").glob("step-*.pt"))
    grid = run / "samples" / f"step-{step:08d}.png"
    grid.unlink()
    grid.symlink_to(secret_png(tmp_path / "secret.png"))
    (run / "progress.json").unlink()
    os.mkfifo(run / "progress.json")  # read as unreadable, never waited on
    out = fresh_boards(scored, tmp_path / "boards")

    built = invoke("eval", "leaderboard", run, *SCORE, "--out", out)

    assert built.exit_code == 0, built.output
    assert "0 checkpoint(s) to score" in built.stderr
    (row,) = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert isinstance(row["fid"], float) and "sample_grid" not in row
    assert not list(out.glob(f"{STEM}-samples/*"))
    assert_no_leak_in(out)
    (line,) = warnings(built)
    assert f"sample grid '{grid}' left out: it resolves to " in line
    assert f"outside the run directory '{run}'" in line

    folder = tmp_path / "model"
    exported = invoke("export", run, "--out", folder)

    assert exported.exit_code == 0, exported.output
    assert not (folder / "samples.png").exists()
    assert_no_leak_in(folder)
    # This run's progress.json is a FIFO too: refused with its own warning, never read.
    (line,) = [w for w in warnings(exported) if "sample grid" in w]
    assert f"sample grid '{grid}' left out: " in line


def test_a_grid_symlinked_inside_its_run_is_still_shown(scored, tmp_path):
    """The rule is about where a file is, not how it is reached: a link within the run is fine."""
    run = tmp_path / "runs" / "gan"
    shutil.copytree(scored[0], run)
    grids = sorted((run / "samples").glob("step-*.png"))
    grids[-1].unlink()
    grids[-1].symlink_to(grids[0].name)
    out = fresh_boards(scored, tmp_path / "boards")

    built = invoke("eval", "leaderboard", run, *SCORE, "--out", out)

    assert built.exit_code == 0, built.output
    assert warnings(built) == []
    (row,) = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert (out / row["sample_grid"]).read_bytes() == grids[0].read_bytes()


@pytest.mark.timeout(120)
def test_a_model_folders_symlinked_samples_png_is_not_copied_to_its_stand_in(scored, tmp_path):
    folder = tmp_path / "model"
    assert invoke("export", scored[0], "--out", folder).exit_code == 0
    (folder / "samples.png").unlink()
    (folder / "samples.png").symlink_to(secret_png(tmp_path / "secret.png"))
    out = fresh_boards(scored, tmp_path / "boards")

    built = invoke("eval", "leaderboard", folder, *SCORE, "--out", out)

    assert built.exit_code == 0, built.output
    (row,) = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert isinstance(row["fid"], float) and "sample_grid" not in row
    assert not list(out.rglob("samples/*"))
    assert_no_leak_in(out)
    (line,) = warnings(built)
    assert f"sample grid '{folder / 'samples.png'}' left out: " in line
    assert "outside the model folder" in line


# ------------------------------------------------------- malformed result files


def damage_step(result: dict) -> str:
    result["protocol"]["checkpoint"]["step"] = "latest"
    return "protocol.checkpoint.step is 'latest', not a step number"


def damage_checkpoint(result: dict) -> str:
    result["protocol"]["checkpoint"] = "step-4"
    return "protocol.checkpoint is 'step-4', not an object"


def two_runs(scored, tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """(runs, boards) as relative paths: the commands meet each file under two spellings
    (as given, and resolved), and must still warn about it once."""
    monkeypatch.chdir(tmp_path)
    runs = Path("runs")
    for name in ("good", "bad"):
        shutil.copytree(scored[0], runs / name)
    return runs, fresh_boards(scored, Path("boards"))


def damage(run: Path, change, name: str | None = None) -> tuple[Path, str]:
    """The run's result file damaged by ``change`` (moved to ``name`` when given)."""
    (path,) = (run / "eval").glob("*.json")
    result = json.loads(path.read_text())
    reason = change(result)
    if name is not None:
        path.unlink()
        path = path.with_name(name)
    path.write_text(json.dumps(result))
    return path, reason


@pytest.mark.parametrize("change", [damage_step, damage_checkpoint])
def test_rebuild_loses_only_the_malformed_results_row(scored, tmp_path, monkeypatch, change):
    runs, out = two_runs(scored, tmp_path, monkeypatch)
    built = invoke("eval", "leaderboard", "--runs", runs, *SCORE, "--out", out)
    assert built.exit_code == 0, built.output
    path, reason = damage(runs / "bad", change)
    board_file = out / f"{STEM}.json"
    board_file.write_bytes(board_file.read_bytes()[:100])  # a damaged board to rebuild

    rebuilt = invoke("eval", "leaderboard", "--rebuild", "--runs", runs, "--out", out)

    assert rebuilt.exit_code == 0, rebuilt.output
    rows = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert [r["run"] for r in rows] == ["../runs/good"]
    assert isinstance(rows[0]["fid"], float)
    (line,) = warnings(rebuilt)
    assert line == f"ganzoo: warning: result '{path}' left out: {reason}"


@pytest.mark.timeout(120)
def test_eval_leaderboard_scores_again_beside_a_malformed_result(scored, tmp_path, monkeypatch):
    """The malformed file is not this checkpoint's result: the checkpoint is scored again,
    and writing its new result beside the malformed one does not trip over it either."""
    runs, out = two_runs(scored, tmp_path, monkeypatch)
    path, reason = damage(runs / "bad", damage_checkpoint, name="old.json")

    built = invoke("eval", "leaderboard", "--runs", runs, *SCORE, "--out", out)

    assert built.exit_code == 0, built.output
    assert "1 checkpoint(s) to score" in built.stderr
    rows = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert sorted(r["run"] for r in rows) == ["../runs/bad", "../runs/good"]
    (line,) = warnings(built)
    assert line == f"ganzoo: warning: result '{path}' left out: {reason}"
    assert path.exists()  # left for its owner to look at


# ------------------------------------------------------- what a row shows


def test_a_row_shows_the_checkpoints_model_not_what_run_json_claims(scored, tmp_path):
    run = tmp_path / "runs" / "gan"
    shutil.copytree(scored[0], run)
    info = json.loads((run / "run.json").read_text())
    truth = {k: info[k] for k in ("model", "family", "plugin", "parameters")}
    claim = {"model": "vae", "family": "vae", "plugin": "ganzoo-vae", "parameters": 7}
    (run / "run.json").write_text(json.dumps({**info, **claim}))
    out = fresh_boards(scored, tmp_path / "boards")

    built = invoke("eval", "leaderboard", run, *SCORE, "--out", out)

    assert built.exit_code == 0, built.output
    (row,) = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert {k: row[k] for k in truth} == truth

    # A result written before the evaluator recorded the model still gives its row,
    # with what run.json says (the only record it has).
    (path,) = (run / "eval").glob("*.json")
    result = json.loads(path.read_text())
    assert result.pop("scored_model") == truth
    path.write_text(json.dumps(result))
    again = invoke("eval", "leaderboard", run, *SCORE, "--out", out)
    assert again.exit_code == 0, again.output
    (row,) = lb.load(out, "mnist5k", "lenet-mnist").rows
    assert {k: row[k] for k in claim} == claim and isinstance(row["fid"], float)


def test_best_and_all_checkpoints_together_is_one_line(scored, tmp_path):
    out = shutil.copytree(scored[1], tmp_path / "boards")
    for flags in (["--best", "--all-checkpoints"], ["--latest", "--best"]):
        shown = invoke("leaderboard", *flags, "--dir", out)
        assert shown.exit_code == 1
        assert shown.output == (
            f"Error: {' and '.join(flags)} choose different rows; give one of --latest, "
            "--best, --runs, --all-checkpoints\n"
        )
    for flag in ("--latest", "--best", "--all-checkpoints"):
        assert invoke("leaderboard", flag, "--dir", out).exit_code == 0
