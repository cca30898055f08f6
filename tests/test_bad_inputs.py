"""Every bad input to every command: one ``Error:`` line, a non-zero exit, nothing written.

The table below is the hostile-user trial kept as a test.  For each case: the
exit status is non-zero, stderr is exactly one line starting with ``Error: ``
and naming what is wrong, no traceback is printed, and every file in the
working directory is byte-identical afterwards (no temp file left behind).
Ctrl-C and SIGTERM need a real process and are tested at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo.cli import cli

EVAL_SMALL = ["--metrics", "fid", "--num-samples", "60", "--num-real", "60"]
TRAIN = ["train", "--model", "gan", "--batch-size", "16", "--steps", "2", "-q"]
INCEPTION = ["--extractor", "inception-v3-compat"]

# (id, command line, a fragment the one error line must contain)
CASES = [
    # --- top level and listings
    ("unknown-command", ["trian"], "No such command 'trian'. Did you mean 'train'?"),
    ("unknown-option", ["--bogus"], "No such option '--bogus'"),
    ("models-unknown-option", ["models", "--bogus"], "No such option '--bogus'"),
    ("plugins-extra-argument", ["plugins", "extra"], "unexpected extra argument"),
    ("datasets-root-is-a-file", ["datasets", "--data-root", "afile"], "is a file"),
    # --- train: model and hyperparameters
    ("train-no-model", ["train"], "Missing option '--model'"),
    ("train-unknown-model", ["train", "--model", "dcgn"], "Did you mean: dcgan"),
    ("train-set-wrong-type", [*TRAIN, "--set", "lr=fast"], "lr"),
    ("train-set-unknown-key", [*TRAIN, "--set", "nokey=1"], "nokey"),
    ("train-set-no-equals", [*TRAIN, "--set", "lr"], "key=value"),
    ("train-config-missing", [*TRAIN, "--config", "missing.toml"], "missing.toml"),
    ("train-config-not-toml", [*TRAIN, "--config", "bad.toml"], "bad.toml"),
    ("train-config-unknown-key", [*TRAIN, "--config", "unknown.toml"], "colour"),
    # --- train: data
    ("train-unknown-dataset", [*TRAIN, "--dataset", "mnist5"], "Did you mean: mnist5k"),
    ("train-folder-missing", [*TRAIN, "--dataset", "folder:missing"], "not a folder"),
    ("train-folder-no-images", [*TRAIN, "--dataset", "folder:text_only"], "holds no images"),
    ("train-folder-damaged-image", [*TRAIN, "--dataset", "folder:broken"], "bad.png"),
    ("train-npz-junk", [*TRAIN, "--dataset", "npz:junk.npz"], "not a readable .npz"),
    ("train-npz-float", [*TRAIN, "--dataset", "npz:float.npz"], "must be uint8"),
    ("train-npz-arrays", [*TRAIN, "--dataset", "npz:multi.npz"], "name the images array"),
    ("train-npz-missing", [*TRAIN, "--dataset", "npz:missing.npz"], "no such file"),
    ("train-npz-no-path", [*TRAIN, "--dataset", "npz"], "needs an argument"),
    ("train-name-takes-no-path", [*TRAIN, "--dataset", "mnist5k:x"], "takes no argument"),
    ("train-torchvision-offline", [*TRAIN, "--dataset", "mnist", "--data-root", "empty"], "mnist"),
    ("train-split-test", [*TRAIN, "--split", "test"], "'test' is not one of"),
    # --- train: options
    ("train-negative-steps", ["train", "--model", "gan", "--steps", "-1"], "--steps"),
    ("train-batch-zero", [*TRAIN, "--batch-size", "0"], "--batch-size"),
    ("train-batch-too-big", [*TRAIN, "--batch-size", "100000"], "larger than the"),
    ("train-amp-on-cpu", [*TRAIN, "--amp", "--device", "cpu"], "--amp needs a CUDA device"),
    ("train-no-gpu", [*TRAIN, "--device", "cuda"], "no CUDA GPU"),
    ("train-unknown-device", [*TRAIN, "--device", "tpu"], "tpu"),
    ("train-checkpoint-every-0", [*TRAIN, "--checkpoint-every", "0"], "--checkpoint-every"),
    ("train-steps-not-a-number", ["train", "--model", "gan", "--steps", "ten"], "'ten'"),
    ("train-grad-clip-negative", [*TRAIN, "--grad-clip", "-1"], "'--grad-clip'"),
    ("train-grad-clip-zero", [*TRAIN, "--grad-clip", "0"], "'--grad-clip'"),
    ("train-grad-clip-nan", [*TRAIN, "--grad-clip", "nan"], "--grad-clip must be a finite"),
    ("train-ema-decay-above-1", [*TRAIN, "--ema-decay", "1.5"], "'--ema-decay'"),
    ("train-ema-decay-1", [*TRAIN, "--ema-decay", "1"], "'--ema-decay'"),
    ("train-ema-decay-nan", [*TRAIN, "--ema-decay", "nan"], "--ema-decay must be a finite"),
    ("train-seed-huge", [*TRAIN, "--seed", str(2**70)], "'--seed'"),
    ("train-threads-zero", [*TRAIN, "--threads", "0"], "'--threads'"),
    ("train-set-lr-nan", [*TRAIN, "--set", "lr=nan"], "expected a finite number"),
    # --- train: in-loop evaluation and trackers
    ("train-unknown-tracker", [*TRAIN, "--tracker", "wandb"], "unknown tracker 'wandb'"),
    ("train-tracker-typo", [*TRAIN, "--tracker", "jsnol"], "Did you mean: jsonl"),
    ("train-keep-best-alone", [*TRAIN, "--keep-best", "fid"], "--keep-best needs in-loop"),
    ("train-stop-after-alone", [*TRAIN, "--stop-after", "2"], "--stop-after needs in-loop"),
    ("train-eval-every-0", [*TRAIN, "--eval-every", "0"], "'--eval-every'"),
    ("train-eval-unknown-metric", [*TRAIN, "--eval-every", "1", "--eval-metrics", "fjd"], "fjd"),
    (
        "train-keep-best-not-measured",
        [*TRAIN, "--eval-every", "1", "--keep-best", "kid"],
        "--keep-best kid: not measured by --eval-metrics fid",
    ),
    ("train-set-lr-inf", [*TRAIN, "--set", "lr=inf"], "expected a finite number"),
    ("train-set-lr-overflow", [*TRAIN, "--set", "lr=1e309"], "expected a finite number"),
    ("train-out-empty", [*TRAIN, "--out", ""], "must name a folder"),
    ("train-name-escapes", [*TRAIN, "--name", "../../x"], "not a plain name"),
    ("train-name-with-slash", [*TRAIN, "--name", "a/b"], "not a plain name"),
    # --- train: output
    ("train-out-under-a-file", [*TRAIN, "--out", "afile/run"], "cannot create folder"),
    ("train-out-is-a-file", [*TRAIN, "--out", "afile"], "is a file"),
    ("train-out-holds-another-run", [*TRAIN, "--out", "run", "--seed", "5"], "different run"),
    ("train-out-damaged-run-json", [*TRAIN, "--out", "run_bad_json"], "not valid JSON"),
    ("train-out-all-damaged", [*TRAIN, "--out", "run_damaged"], "To start over"),
    # --- sample
    ("sample-no-run", ["sample"], "Missing argument 'RUN'"),
    ("sample-run-missing", ["sample", "missing", "--out", "g.png"], "does not exist"),
    ("sample-no-out", ["sample", "run"], "Missing option '--out'"),
    ("sample-bad-suffix", ["sample", "run", "--out", "g.jpg"], "must end in .png or .npz"),
    ("sample-out-under-a-file", ["sample", "run", "--out", "afile/g.png"], "cannot"),
    ("sample-no-such-step", ["sample", "run", "--checkpoint", "999", "--out", "g.png"], "999"),
    ("sample-zero-images", ["sample", "run", "--n", "0", "--out", "g.png"], "--n"),
    ("sample-huge-n", ["sample", "run", "--n", str(10**12), "--out", "g.png"], "'--n'"),
    ("sample-seed-huge", ["sample", "run", "--seed", str(2**70), "--out", "g.png"], "'--seed'"),
    ("sample-evil-checkpoint", ["sample", "run_evil", "--out", "g.png"], "could run code"),
    ("sample-damaged-checkpoint", ["sample", "run_damaged", "--out", "g.png"], "damaged"),
    ("sample-not-a-run", ["sample", "empty", "--out", "g.png"], "has no checkpoints"),
    ("sample-npz-as-checkpoint", ["sample", "samples.npz", "--out", "g.png"], "damaged"),
    ("sample-ema-absent", ["sample", "run", "--ema", "--out", "g.png"], "no EMA weights"),
    ("sample-no-gpu", ["sample", "run", "--device", "cuda", "--out", "g.png"], "no CUDA GPU"),
    ("sample-class-unconditional", ["sample", "run", "--class", "3", "--out", "g.png"], "--class"),
    ("sample-set-training-field", ["sample", "run", "--set", "lr=1", "--out", "g.png"], "'lr'"),
    ("sample-set-no-equals", ["sample", "run", "--set", "steps", "--out", "g.png"], "key=value"),
    # --- eval: what is scored
    ("eval-target-missing", ["eval", "missing"], "does not exist"),
    ("eval-npz-float", ["eval", "float.npz"], "must be uint8"),
    ("eval-npz-arrays", ["eval", "multi.npz"], "name the images array"),
    ("eval-npz-junk", ["eval", "junk.npz"], "not a readable .npz"),
    ("eval-folder-empty", ["eval", "empty"], "holds no images"),
    ("eval-folder-damaged-image", ["eval", "broken"], "bad.png"),
    ("eval-size-mismatch", ["eval", "colour32", "--dataset", "mnist5k"], "32x32"),
    ("eval-no-such-step", ["eval", "run", "--checkpoint", "999"], "no checkpoint at step 999"),
    ("eval-no-best", ["eval", "run", "--checkpoint", "best"], "no best checkpoint in"),
    ("eval-checkpoint-word", ["eval", "run", "--checkpoint", "last"], "neither a step"),
    ("eval-step-and-sweep", ["eval", "run", "--checkpoint", "2", "--all-checkpoints"], "either"),
    ("eval-step-of-samples", ["eval", "samples.npz", "--checkpoint", "2"], "run directories"),
    ("eval-evil-checkpoint", ["eval", "run_evil"], "could run code"),
    ("eval-damaged-checkpoint", ["eval", "run_damaged"], "damaged"),
    ("eval-no-gpu", ["eval", "run", "--device", "cuda"], "no CUDA GPU"),
    # --- eval: how it is scored
    ("eval-unknown-metric", ["eval", "samples.npz", "--metrics", "fid,ppl"], "unknown metric"),
    ("eval-no-metric", ["eval", "samples.npz", "--metrics", ","], "no metrics requested"),
    (
        "eval-dc-too-few-real",
        ["eval", "samples.npz", "--metrics", "dc", "--num-real", "5"],
        "density/coverage with k=5 need at least 6 real images, got 5",
    ),
    (
        "eval-memorization-no-training",
        ["eval", "samples.npz", "--metrics", "memorization"],
        "needs the images",
    ),
    (
        "eval-memorization-reference-overlaps",
        [
            "eval",
            "samples.npz",
            "--metrics",
            "memorization",
            "--train-dataset",
            "mnist5k",
            "--split",
            "train",
        ],
        "overlaps the training images mnist5k:train",
    ),
    (
        "eval-memorization-other-shape",
        ["eval", "samples.npz", "--metrics", "memorization", "--train-dataset", "folder:colour32"],
        "--train-dataset must be the model's data",
    ),
    (
        "eval-memorization-too-few-held-out",
        [
            "eval",
            "samples.npz",
            "--metrics",
            "memorization",
            "--train-dataset",
            "mnist5k",
            "--num-real",
            "10",
        ],
        "needs at least 20 held-out images",
    ),
    (
        "eval-cmmd-clip336-no-weights",
        ["eval", "samples.npz", "--extractor", "clip-vit-l-14-336", "--metrics", "cmmd"],
        "no weights for clip-vit-l-14-336: give --extractor-weights PATH or GANZOO_CLIP_WEIGHTS",
    ),
    (
        "eval-cmmd-clip336-wrong-architecture",
        ["eval", "samples.npz", "--extractor", "clip-vit-l-14-336", "--metrics", "cmmd"]
        + ["--extractor-weights", "vit-patch32.pt"],
        "clip-vit-l-14-336 needs ViT-L/14-336px weights (width 1024, patch 14",
    ),
    (
        "eval-dinov2-no-weights",
        ["eval", "samples.npz", "--extractor", "dinov2-vit-b-14"],
        "no weights for dinov2-vit-b-14: give --extractor-weights PATH or GANZOO_DINOV2_WEIGHTS",
    ),
    (
        "eval-dinov2-wrong-architecture",
        [
            "eval",
            "samples.npz",
            "--extractor",
            "dinov2-vit-b-14",
            "--extractor-weights",
            "vits14.pth",
        ],
        "needs weights of width 768 and 12 blocks; these have width 384 and 12 blocks",
    ),
    ("eval-unknown-extractor", ["eval", "samples.npz", "--extractor", "lenet-mnst"], "lenet-mnist"),
    ("eval-num-real-zero", ["eval", "samples.npz", "--num-real", "0"], "'--num-real'"),
    ("eval-num-real-too-many", ["eval", "samples.npz", "--num-real", "100000"], "has only 500"),
    ("eval-num-samples-zero", ["eval", "samples.npz", "--num-samples", "0"], "--num-samples"),
    ("eval-num-samples-too-many", ["eval", "samples.npz", "--num-samples", "500"], "only 20"),
    ("eval-seeds-of-samples", ["eval", "samples.npz", "--seeds", "3"], "no seed"),
    ("eval-seeds-zero", ["eval", "samples.npz", "--seeds", "0"], "'--seeds'"),
    ("eval-batch-zero", ["eval", "samples.npz", "--batch-size", "0"], "'--batch-size'"),
    ("eval-num-samples-huge", ["eval", "run", "--num-samples", str(10**12)], "'--num-samples'"),
    ("eval-seed-huge", ["eval", "run", "--seed", str(2**70)], "'--seed'"),
    ("eval-seed-negative", ["eval", "run", "--seed", "-1"], "'--seed'"),
    ("eval-set-fixed-images", ["eval", "samples.npz", "--set", "sample_steps=5"], "fixed images"),
    ("eval-set-training-field", ["eval", "run", "--set", "latent_dim=3"], "after training"),
    (
        "eval-classes-without-classifier",
        ["eval", "samples.npz", *INCEPTION, "--metrics", "classes"],
        "classifies mnist5k",
    ),  # fmt: skip
    (
        "eval-ifid-unlabelled-reference",
        ["eval", "colour32", "--dataset", "folder:colour32", "--metrics", "ifid"],
        "intra-FID",
    ),  # fmt: skip
    (
        "train-conditional-unlabelled",
        ["train", "--model", "dcgan-cond", "--dataset", "folder:colour32", "--out", "cond"],
        "has no labels",
    ),  # fmt: skip
    (
        "eval-kid-subset-big",
        ["eval", "samples.npz", "--metrics", "kid", "--kid-subset-size", "999"],
        "KID subset size 999 is larger",
    ),  # fmt: skip
    (
        "eval-kid-subset-one",
        ["eval", "samples.npz", "--metrics", "kid", "--kid-subset-size", "1"],
        "'--kid-subset-size'",
    ),  # fmt: skip
    ("eval-unknown-dataset", ["eval", "samples.npz", "--dataset", "mnist5"], "mnist5k"),
    ("eval-reference-junk", ["eval", "samples.npz", "--dataset", "npz:junk.npz"], "not a readable"),
    ("eval-unknown-split", ["eval", "samples.npz", "--split", "validation"], "unknown split"),
    (
        "eval-evil-weights",
        ["eval", "samples.npz", *INCEPTION, "--inception-weights", "evil.pth"],
        "could run code",
    ),  # fmt: skip
    (
        "eval-weights-missing",
        ["eval", "samples.npz", *INCEPTION, "--extractor-weights", "no.pth"],
        "does not exist",
    ),  # fmt: skip
    (
        "eval-is-without-classifier",
        ["eval", "samples.npz", *INCEPTION, "--metrics", "is"],
        "classifier layer",
    ),  # fmt: skip
    # --- compare
    ("compare-one-target", ["compare", "run"], "compare takes two targets, A and B"),
    ("compare-no-target", ["compare"], "compare takes two targets, A and B"),
    ("compare-target-missing", ["compare", "run", "missing"], "'missing' does not exist"),
    ("compare-same-images", ["compare", "samples.npz", "samples.npz"], "same fixed images"),
    (
        "compare-incomparable",
        ["compare", "samples.npz", "run", "--metrics", "fid", "--num-real", "60"],
        "the number of generated images (pass the same --num-samples)",
    ),
    # --- leaderboards
    ("board-no-runs", ["eval", "leaderboard"], "give run directories"),
    ("board-not-a-run", ["eval", "leaderboard", "empty"], "not a run directory"),
    ("board-runs-missing", ["eval", "leaderboard", "--runs", "missing"], "not a directory"),
    ("board-runs-none-below", ["eval", "leaderboard", "--runs", "empty"], "no run directories"),
    (
        "board-damaged",
        ["eval", "leaderboard", "run", *EVAL_SMALL, "--out", "damaged_lb"],
        "--rebuild",
    ),  # fmt: skip
    ("board-unknown-metric", ["eval", "leaderboard", "run", "--metrics", "ppl"], "unknown metric"),
    ("board-bad-sort", ["eval", "leaderboard", "run", "--sort", "speed"], "'speed' is not one of"),
    ("board-out-is-a-file", ["eval", "leaderboard", "run", "--out", "afile"], "is a file"),
    ("show-none", ["leaderboard", "--dir", "empty"], "no leaderboard"),
    ("show-damaged", ["leaderboard", "--dir", "damaged_lb"], "is damaged"),
    (
        "show-no-match",
        ["leaderboard", "--dir", "good_lb", "--dataset", "cifar10"],
        "no leaderboard",
    ),
    ("show-bad-format", ["leaderboard", "--dir", "good_lb", "--format", "xml"], "'xml'"),
    ("show-bad-sort", ["leaderboard", "--dir", "good_lb", "--sort", "speed"], "'speed'"),
    (
        "show-runs-and-best",
        ["leaderboard", "--dir", "good_lb", "--runs", "--best"],
        "--best and --runs choose different rows",
    ),
    # --- zoo
    ("zoo-unknown-model", ["zoo", "--models", "dcgn"], "Did you mean: dcgan"),
    ("zoo-steps-and-minutes", ["zoo", "--steps", "5", "--minutes", "1"], "either --steps"),
    ("zoo-train-seeds-zero", ["zoo", "--train-seeds", "0"], "0 is not in the range 1<=x<=100"),
    ("zoo-zero-scale", ["zoo", "--scale", "0"], "--scale"),
    (
        "zoo-damaged-board",
        [
            "zoo",
            "--models",
            "gan",
            "--steps",
            "1",
            "--leaderboards",
            "damaged_lb",
            "--out-runs",
            "zoo_runs",
        ],
        "--rebuild",
    ),  # fmt: skip
]


class _Payload:
    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def _png(path: Path, value: int, size: tuple[int, int] = (28, 28), mode: str = "L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    channels = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(np.full(channels, value, np.uint8), mode).save(path)


def _invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _make_inputs(root: Path) -> None:
    images = ganzoo.load_dataset("mnist5k", "test").images[:20]
    np.savez(root / "samples.npz", images=images.numpy())
    np.savez(root / "float.npz", images=np.zeros((4, 28, 28), np.float32))
    np.savez(root / "multi.npz", a=np.zeros((2, 28, 28), np.uint8), b=np.zeros(2))
    (root / "junk.npz").write_bytes(b"not a zip file")
    (root / "afile").write_text("a file where a folder is expected")
    (root / "bad.toml").write_text("lr = = 1\n")
    (root / "unknown.toml").write_text("colour = 'red'\n")
    (root / "empty").mkdir()
    (root / "text_only").mkdir()
    (root / "text_only" / "notes.txt").write_text("no images here")
    _png(root / "broken" / "good.png", 10)
    (root / "broken" / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n damaged")
    for i in range(12):
        _png(root / "colour32" / f"{i}.png", 20 * i, size=(32, 32), mode="RGB")
    torch.save({"model": _Payload()}, root / "evil.pth")
    vit_s = {"cls_token": torch.zeros(1, 1, 384), "pos_embed": torch.zeros(1, 1370, 384)}
    vit_s |= {f"blocks.{i}.attn.qkv.weight": torch.zeros(1152, 384) for i in range(12)}
    torch.save(vit_s, root / "vits14.pth")  # Meta's ViT-S/14 layout, given to ViT-B/14
    _tiny_clip_vit(root / "vit-patch32.pt")


def _tiny_clip_vit(path: Path) -> None:
    """A CLIP ViT state dict in OpenAI's key layout, of the wrong architecture for CLIP-336
    (patch 32, one layer: small enough for the byte-identical snapshot)."""
    from torch_fidelity.feature_extractor_clip import CLIPVisual

    state = dict(CLIPVisual(32, 64, 1, 64, 32).state_dict())
    state["text_projection"] = torch.zeros(32, 32)
    torch.save(state, path)


def _make_runs(root: Path) -> None:
    result = _invoke(*TRAIN, "--checkpoint-every", "2", "--out", root / "run")
    assert result.exit_code == 0, result.output
    for name, damage in (("run_evil", "evil"), ("run_damaged", "truncate")):
        copy = root / name
        shutil.copytree(root / "run", copy)
        for checkpoint in (copy / "checkpoints").glob("step-*.pt"):
            if damage == "evil":
                torch.save({"format": "ganzoo-checkpoint", "model": _Payload()}, checkpoint)
            else:
                checkpoint.write_bytes(checkpoint.read_bytes()[:200])
    shutil.copytree(root / "run", root / "run_bad_json")
    (root / "run_bad_json" / "run.json").write_text('{"model": "gan",')
    board = _invoke("eval", "leaderboard", root / "run", *EVAL_SMALL, "--out", root / "good_lb")
    assert board.exit_code == 0, board.output
    shutil.copytree(root / "good_lb", root / "damaged_lb")
    (json_file,) = (root / "damaged_lb").glob("*.json")
    json_file.write_bytes(json_file.read_bytes()[:100])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bad-inputs")
    _make_inputs(root)
    _make_runs(root)
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_the_table_is_long_enough():
    assert len(CASES) >= 60
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("args, fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input(args, fragment, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.delenv("GANZOO_INCEPTION_WEIGHTS", raising=False)
    before = snapshot(workdir)
    result = _invoke(*args)
    assert result.exit_code not in (0, None), result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert snapshot(workdir) == before
    assert not (workdir / "PWNED").exists()


@pytest.mark.parametrize(
    ("tracker", "environment", "fragment"),
    [
        ("mlflow", {"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}, "127.0.0.1:9 is unreachable"),
        ("mlflow", {"MLFLOW_TRACKING_URI": "sqlite:///no/such/dir/m.db"}, "does not exist"),
        ("mlflow", {"mlflow": None}, "pip install 'ganzoo[mlflow]'"),
        ("tensorboard", {"tensorboard": None}, "pip install 'ganzoo[tensorboard]'"),
    ],
    ids=["mlflow-unreachable", "mlflow-no-folder", "mlflow-missing", "tensorboard-missing"],
)
def test_a_tracker_that_cannot_work_stops_training_before_it_writes(
    tracker, environment, fragment, workdir, monkeypatch
):
    """A store that cannot be reached, or a library not installed (as if uninstalled)."""
    monkeypatch.chdir(workdir)
    for name, value in environment.items():
        if name.isupper():
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.setitem(sys.modules, name, value)  # None: importing it raises
    before = snapshot(workdir)
    result = _invoke(*TRAIN, "--tracker", tracker, "--out", "tracked")
    lines = result.stderr.splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and fragment in lines[0], lines[0]
    assert snapshot(workdir) == before


def _interrupt(tmp_path: Path, signum: int) -> subprocess.CompletedProcess:
    """Start a long training run, wait for its first checkpoint, then send ``signum``."""
    out = tmp_path / "run"
    args = [sys.executable, "-m", "ganzoo", *TRAIN[:-3], "--steps", "100000", "--out", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list((out / "checkpoints").glob("step-*.pt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)


@pytest.mark.slow
@pytest.mark.parametrize(
    "signum, code, word", [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_ctrl_c_and_sigterm_exit_with_the_conventional_status(tmp_path, signum, code, word):
    done = _interrupt(tmp_path, signum)
    assert done.returncode == code, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith(f"Error: {word}; run the same command again to resume"), lines
    assert "Traceback" not in done.stderr
    leftovers = [p.name for p in (tmp_path / "run").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
