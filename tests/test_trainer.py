"""The shared trainer on real models and real mnist5k data: training, determinism, resume, safety."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo.cli import cli
from ganzoo.data.base import ImageData
from ganzoo.errors import Terminated
from ganzoo.testing import check_model
from ganzoo.train.checkpoint import CheckpointError, list_checkpoints, load_checkpoint
from ganzoo.train.run import read_run_info
from ganzoo.train.stop import StopRequest
from ganzoo.train.trainer import Trainer, TrainOptions

# Small but real settings per model, so every family trains in a second or two.
TINY = {
    "gan": {},
    "dcgan": {"width": 16},
    "wgan-gp": {"width": 16},
    "vae": {},
    "transformer": {"n_layers": 1, "d_model": 32, "n_heads": 2},
}


def tiny_slice(n: int = 256) -> ImageData:
    data = ganzoo.load_dataset("mnist5k", "train")
    return ImageData(data.images[:n], data.labels[:n], data.spec, data.name, data.split)


def run_cli(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "ganzoo", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        **kwargs,
    )


def tensors_equal(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for key in a:
        x, y = a[key], b[key]
        if isinstance(x, dict):
            if not tensors_equal(x, y):
                return False
        elif isinstance(x, torch.Tensor):
            if not torch.equal(x, y):
                return False
        elif x != y:
            return False
    return True


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_model_conforms(name):
    """ganzoo.testing's checks: trains through the Trainer (loss and weights move), same seed same
    run, resumes exactly, samples of the contract's shape, dtype and range, no torch at import."""
    report = check_model(name, config=TINY[name])
    assert [c.status for c in report.checks] == ["PASS"] * 8, report.lines()
    data = tiny_slice()
    model = ganzoo.build_model(name, data.spec, TINY[name])
    trainer = Trainer(model, data, TrainOptions(steps=0, quiet=True))
    assert torch.equal(trainer.sample(5, seed=1), trainer.sample(5, seed=1)), "grids must repeat"


def test_same_seed_gives_bitwise_identical_checkpoints(tmp_path):
    data = tiny_slice()
    files = []
    for run in ("a", "b"):
        torch.manual_seed(123)
        model = ganzoo.build_model("dcgan", data.spec, TINY["dcgan"])
        options = TrainOptions(
            steps=4, batch_size=16, checkpoint_every=2, sample_every=2, quiet=True, ema=True
        )
        Trainer(model, data, options, run_dir=tmp_path / run).fit()
        files.append(list_checkpoints(tmp_path / run / "checkpoints")[-1][1].read_bytes())
    assert files[0] == files[1]


# ``ganzoo train`` as from the command line, except that once the checkpoint of step
# argv[1] is complete it says so on file descriptor argv[2] and waits to be killed.
# The kill then never races the run (a loaded machine could let it finish first).
TRAIN_THEN_WAIT = textwrap.dedent(
    """
    import os, sys, threading
    from ganzoo.cli import main
    from ganzoo.train.trainer import Trainer

    stop_at, fd = int(sys.argv.pop(1)), int(sys.argv.pop(1))
    checkpoint = Trainer._checkpoint

    def checkpoint_then_wait(self, elapsed):
        path = checkpoint(self, elapsed)
        if self.step == stop_at:
            os.write(fd, f"{self.step}\\n".encode())
            threading.Event().wait()  # until SIGKILL
        return path

    Trainer._checkpoint = checkpoint_then_wait
    sys.argv[0] = "ganzoo"
    main()
    """
)


@pytest.mark.slow
def test_sigkill_and_resume_equals_an_uninterrupted_run(tmp_path):
    args = ["train", "--model", "dcgan", "--set", "width=16", "--steps", "60", "--batch-size", "32",
            "--checkpoint-every", "10", "--sample-every", "30", "--log-every", "10", "--ema", "--seed", "3"]  # fmt: skip
    whole = run_cli(*args, "--out", str(tmp_path / "whole"), timeout=300)
    assert whole.returncode == 0, whole.stderr

    killed_dir = tmp_path / "killed"
    read_end, write_end = os.pipe()
    with open(tmp_path / "killed.stderr", "wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", TRAIN_THEN_WAIT, "20", str(write_end), *args,
             "--out", str(killed_dir)],
            stdout=subprocess.DEVNULL, stderr=stderr, pass_fds=(write_end,),
        )  # fmt: skip
    os.close(write_end)  # the child's copy is now the only one: its death means end of file
    try:
        with os.fdopen(read_end, "rb") as events:
            ready, _, _ = select.select([events], [], [], 240)
            said = events.readline() if ready else b""
        assert said == b"20\n", (
            f"the run never reported its step-20 checkpoint (exit code {proc.poll()}):\n"
            + (tmp_path / "killed.stderr").read_text()
        )
        assert proc.poll() is None
    finally:
        proc.kill()  # SIGKILL
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    killed_at = list_checkpoints(killed_dir / "checkpoints")[-1][0]
    assert killed_at == 20

    resumed = run_cli(*args, "--out", str(killed_dir), timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed from step {killed_at}" in resumed.stderr

    final_whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "step-00000060.pt")
    final_resumed = load_checkpoint(killed_dir / "checkpoints" / "step-00000060.pt")
    for key in ("model", "ema", "optimizers", "rng", "data"):
        assert tensors_equal(final_whole[key], final_resumed[key]), key


KILL_DURING_SAVE = textwrap.dedent(
    """
    import os, signal, sys
    import torch, ganzoo
    from ganzoo.data.base import ImageData
    from ganzoo.train.trainer import Trainer, TrainOptions

    data = ganzoo.load_dataset("mnist5k", "train")
    data = ImageData(data.images[:128], data.labels[:128], data.spec, data.name, data.split)
    model = ganzoo.model_class("gan")(ganzoo.model_class("gan").Config(), data.spec)
    options = TrainOptions(steps=int(sys.argv[2]), batch_size=16, checkpoint_every=2, sample_every=100, quiet=True)
    if sys.argv[3] == "kill":
        real_fsync = os.fsync
        def dying_fsync(fd):
            # Die after the second checkpoint's bytes are written, before its rename.
            if ".step-00000004.pt." in os.readlink(f"/proc/self/fd/{fd}"):
                os.kill(os.getpid(), signal.SIGKILL)
            real_fsync(fd)
        os.fsync = dying_fsync
    Trainer(model, data, options, run_dir=sys.argv[1]).fit()
    """
)


@pytest.mark.slow
def test_kill_during_checkpoint_write_leaves_the_previous_checkpoint(tmp_path):
    script = tmp_path / "kill.py"
    script.write_text(KILL_DURING_SAVE)
    run_dir = tmp_path / "run"
    died = subprocess.run(
        [sys.executable, str(script), str(run_dir), "6", "kill"], capture_output=True
    )
    assert died.returncode == -signal.SIGKILL
    assert [s for s, _ in list_checkpoints(run_dir / "checkpoints")] == [0, 2]
    assert list((run_dir / "checkpoints").glob(".step-*.tmp")), (
        "the interrupted write left its temp file"
    )
    assert load_checkpoint(run_dir / "checkpoints" / "step-00000002.pt")["step"] == 2

    done = subprocess.run(
        [sys.executable, str(script), str(run_dir), "6", "ok"], capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert [s for s, _ in list_checkpoints(run_dir / "checkpoints")][-1] == 6
    assert not list((run_dir / "checkpoints").glob(".step-*.tmp")), "stale temp files are cleaned"


class _Exploit:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "checkpoints" / "step-00000001.pt"
    evil.parent.mkdir()
    torch.save({"format": "ganzoo-checkpoint", "model": _Exploit(marker)}, evil)

    with pytest.raises(CheckpointError, match="refusing checkpoint .*could run code"):
        load_checkpoint(evil)
    result = CliRunner().invoke(cli, ["sample", str(tmp_path), "--out", str(tmp_path / "g.png")])
    assert result.exit_code != 0
    assert "refusing checkpoint" in result.output
    assert not marker.exists(), "the checkpoint executed code"
    assert not (tmp_path / "g.png").exists()


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "step-00000001.pt"
    path.write_bytes(b"PK\x03\x04 this is not a real zip archive")
    with pytest.raises(CheckpointError, match=r"step-00000001.pt' is damaged \(truncated"):
        load_checkpoint(path)


def test_non_finite_loss_stops_with_phase_step_and_last_good_checkpoint(tmp_path):
    data = tiny_slice()
    model = ganzoo.build_model("gan", data.spec, TINY["gan"])
    options = TrainOptions(
        steps=10, batch_size=16, checkpoint_every=2, sample_every=100, quiet=True
    )
    trainer = Trainer(model, data, options, run_dir=tmp_path)
    phase = trainer.phases[0]
    original, calls = phase.loss, []

    def poisoned(batch):
        loss, logs = original(batch)
        calls.append(1)
        return (loss * float("nan") if len(calls) == 3 else loss), logs

    phase.loss = poisoned
    with pytest.raises(ganzoo.DivergenceError) as info:
        trainer.fit()
    message = str(info.value)
    assert f"phase {phase.name!r}" in message and "step 3" in message
    assert "step-00000002.pt" in message
    assert load_checkpoint(tmp_path / "checkpoints" / "step-00000002.pt")["step"] == 2
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [0, 2]


def test_cli_train_resume_and_sample(tmp_path, plumbing_model):
    out = tmp_path / "run"
    runner = CliRunner()
    common = ["train", "--model", plumbing_model, "--steps", "4", "--batch-size", "16", "--checkpoint-every", "2",
              "--sample-every", "2", "--out", str(out), "-q"]  # fmt: skip
    result = runner.invoke(cli, common)
    assert result.exit_code == 0, result.output
    info = read_run_info(out)
    assert info["model"] == plumbing_model and info["dataset"] == "mnist5k" and info["seed"] == 0
    assert info["hyperparameters"]["lr"] == 1e-2 and info["versions"]["torch"] == torch.__version__
    assert (out / "samples" / "step-00000004.png").is_file()
    assert (out / "metrics.jsonl").read_text().count("\n") >= 1

    again = runner.invoke(cli, [*common[:4], "6", *common[5:]])
    assert again.exit_code == 0, again.output
    assert load_checkpoint(out / "checkpoints" / "step-00000006.pt")["step"] == 6

    different = runner.invoke(cli, [*common, "--seed", "5"])
    assert different.exit_code != 0 and "holds a different run" in different.output

    grid = tmp_path / "grid.png"
    sampled = runner.invoke(cli, ["sample", str(out), "--n", "9", "--out", str(grid)])
    assert sampled.exit_code == 0, sampled.output
    from PIL import Image

    assert Image.open(grid).size == (3 * 30 + 2, 3 * 30 + 2)
    raw = tmp_path / "s.npz"
    assert (
        runner.invoke(
            cli, ["sample", str(out), "--checkpoint", "4", "--n", "5", "--out", str(raw)]
        ).exit_code
        == 0
    )
    import numpy as np

    images = np.load(raw)["images"]
    assert images.shape == (5, 28, 28, 1) and images.dtype == np.uint8


def test_user_errors_are_one_line(tmp_path):
    runner = CliRunner()
    bad_type = runner.invoke(
        cli, ["train", "--model", "gan", "--set", "lr=abc", "--out", str(tmp_path / "x")]
    )
    assert bad_type.exit_code != 0 and "Traceback" not in bad_type.output
    assert "'lr'" in bad_type.output and "latent_dim" in bad_type.output
    assert not (tmp_path / "x").exists(), "a failed start must not create the run directory"

    unknown = runner.invoke(cli, ["train", "--model", "dcgn"])
    assert unknown.exit_code != 0 and "Did you mean: dcgan" in unknown.output

    amp = runner.invoke(
        cli, ["train", "--model", "gan", "--device", "cpu", "--amp", "--out", str(tmp_path / "y")]
    )
    assert amp.exit_code != 0 and "--amp needs a CUDA device" in amp.output


@pytest.mark.cuda
@pytest.mark.parametrize("name", sorted(TINY))
def test_every_model_trains_with_amp_on_cuda(name):
    data = tiny_slice()
    model = ganzoo.build_model(name, data.spec, TINY[name])
    trainer = Trainer(
        model, data, TrainOptions(steps=5, batch_size=16, device="cuda", amp=True, quiet=True)
    )
    assert trainer.fit().step == 5
    assert next(model.parameters()).is_cuda
    assert torch.isfinite(trainer.sample(4, seed=0)).all()


def test_resume_restores_learning_rate_schedules(tmp_path):
    """The transformer's warmup lives in a scheduler the trainer checkpoints."""
    data = tiny_slice()

    def train(run_dir, steps):
        torch.manual_seed(0)
        model = ganzoo.build_model("transformer", data.spec, TINY["transformer"], warmup_steps=10)
        options = TrainOptions(
            steps=steps, batch_size=8, checkpoint_every=3, sample_every=100, quiet=True
        )
        trainer = Trainer(model, data, options, run_dir=run_dir)
        trainer.fit()
        return trainer

    whole = train(tmp_path / "whole", 6)
    train(tmp_path / "split", 3)
    resumed = train(tmp_path / "split", 6)
    lr = resumed.optimizers["transformer"].param_groups[0]["lr"]
    assert lr == whole.optimizers["transformer"].param_groups[0]["lr"]
    assert lr == pytest.approx(1e-3 * 7 / 10)  # the 7th step of a 10-step warmup comes next
    a = load_checkpoint(tmp_path / "whole" / "checkpoints" / "step-00000006.pt")
    b = load_checkpoint(tmp_path / "split" / "checkpoints" / "step-00000006.pt")
    assert tensors_equal(a["model"], b["model"]) and a["schedulers"] == b["schedulers"]


@pytest.mark.slow
def test_compiled_training_writes_checkpoints_an_eager_model_loads(tmp_path):
    """--compile compiles each network in place, so checkpoint keys stay those of the eager model."""
    from ganzoo import load_run

    data = tiny_slice()
    model = ganzoo.build_model("dcgan", data.spec, TINY["dcgan"])
    options = TrainOptions(steps=3, batch_size=16, compile=True, quiet=True)
    Trainer(model, data, options, run_dir=tmp_path).fit()
    loaded = load_run(tmp_path)  # a fresh, uncompiled model
    assert loaded.step == 3
    assert tensors_equal(loaded.model.state_dict(), model.state_dict())


# -- Ctrl-C and SIGTERM: the step in progress finishes and is checkpointed (a preempted job
# or a user's Ctrl-C loses nothing; the same command continues bitwise).


def stoppable_trainer(steps: int, run_dir) -> Trainer:
    data = tiny_slice()
    torch.manual_seed(0)  # the same initial weights for every run (as the CLI's recipe does)
    model = ganzoo.build_model("dcgan", data.spec, width=16)
    options = ganzoo.TrainOptions(
        steps=steps, batch_size=32, checkpoint_every=100, sample_every=100, quiet=True, ema=True
    )
    return Trainer(model, data, options, run_dir=run_dir)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_step_checkpoints_that_step_and_resume_is_exact(tmp_path, signum):
    stopped = stoppable_trainer(6, tmp_path / "stopped")
    train_step = stopped._train_step

    def step_with_a_signal_inside(meter):
        if stopped.step == 2:  # arrives during step 3, before its optimizer steps
            os.kill(os.getpid(), signum)
        train_step(meter)

    stopped._train_step = step_with_a_signal_inside
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with pytest.raises(Terminated if signum == signal.SIGTERM else KeyboardInterrupt):
        stopped.fit()
    assert [s for s, _ in list_checkpoints(tmp_path / "stopped" / "checkpoints")] == [0, 3]
    # handlers restored (compared with what they were: a process started in the background
    # by a non-interactive shell begins with SIGINT ignored, not with Python's handler)
    assert {s: signal.getsignal(s) for s in before} == before

    assert stoppable_trainer(6, tmp_path / "stopped").fit().resumed_from == 3
    stoppable_trainer(6, tmp_path / "whole").fit()
    a, b = (load_checkpoint(tmp_path / run / "checkpoints" / "step-00000006.pt") for run in ("whole", "stopped"))  # fmt: skip
    for key in ("model", "ema", "optimizers", "rng", "data"):
        assert tensors_equal(a[key], b[key]), key


def test_a_second_signal_does_not_wait():
    request = StopRequest()
    request.handle(signal.SIGTERM, None)
    assert request.signum == signal.SIGTERM and request.name() == "SIGTERM"
    with pytest.raises(KeyboardInterrupt):
        request.handle(signal.SIGINT, None)


@pytest.mark.slow
def test_sigterm_to_ganzoo_train_saves_the_current_step_and_says_how_to_go_on(tmp_path):
    out = tmp_path / "run"
    args = [sys.executable, "-m", "ganzoo", "train", "--model", "dcgan", "--set", "width=16",
            "--batch-size", "32", "--checkpoint-every", "100000", "--log-every", "5", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(
        [*args, "--steps", "100000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 240
        while not _logged_steps(out) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        assert _logged_steps(out), "the run never logged a step"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 143, stderr
    steps = [s for s, _ in list_checkpoints(out / "checkpoints")]
    saved = steps[-1]
    assert len(steps) == 2 and saved >= 5  # step 0 and the step it stopped after
    assert f"stopped after step {saved}, saved" in stderr
    assert stderr.strip().splitlines()[-1].startswith("Error: terminated; ")
    again = subprocess.run(
        [*args, "--steps", str(saved + 3)], capture_output=True, text=True, timeout=240
    )
    assert again.returncode == 0, again.stderr
    assert f"resumed from step {saved}" in again.stderr


def _logged_steps(run_dir) -> bool:
    metrics = run_dir / "metrics.jsonl"
    return metrics.is_file() and metrics.read_text().count("\n") >= 1


def test_fused_optimizers_train_like_the_default_and_respect_a_models_choice():
    """--fused rebuilds the model's Adam with fused=True (same groups and settings); the run
    follows the default implementation's to float rounding, and an optimizer whose model chose
    an implementation itself is left as it is."""
    from ganzoo.train.optimizers import fused

    data, results = tiny_slice(), {}
    for choice in (False, True):
        torch.manual_seed(0)
        model = ganzoo.build_model("dcgan", data.spec, TINY["dcgan"])
        trainer = Trainer(
            model, data, TrainOptions(steps=10, batch_size=16, quiet=True, fused=choice)
        )
        groups = [g for opt in trainer.optimizers.values() for g in opt.param_groups]
        assert all(bool(g["fused"]) == choice for g in groups)
        assert {g["lr"] for g in groups} == {model.config.lr_g, model.config.lr_d}
        trainer.fit()
        results[choice] = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert not torch.equal(results[True], results[False])  # another implementation ...
    torch.testing.assert_close(results[True], results[False], rtol=1e-4, atol=1e-5)  # ... same run
    chosen = torch.optim.Adam([torch.nn.Parameter(torch.ones(2))], foreach=False)
    assert fused(chosen) is chosen


def test_losses_reach_the_host_only_when_logged(monkeypatch):
    """The NaN guard and the logged losses stay on the device: the number of host reads grows
    with the number of logged steps, not with the number of steps."""
    data, reads = tiny_slice(), []
    for name in ("item", "__float__", "__int__", "__bool__"):
        original = getattr(torch.Tensor, name)

        def counted(self, _original=original):
            reads.append(1)
            return _original(self)

        monkeypatch.setattr(torch.Tensor, name, counted)

    def host_reads(steps: int) -> int:
        reads.clear()
        model = ganzoo.build_model("gan", data.spec, TINY["gan"])
        options = TrainOptions(steps=steps, batch_size=16, log_every=10, quiet=True)
        Trainer(model, data, options).fit()
        return len(reads)

    assert host_reads(20) == host_reads(40) / 2 > 0


def test_a_late_noticed_non_finite_loss_names_its_step_and_writes_nothing_after_it(tmp_path):
    """Noticed at the next logged step (5) at the latest, or when the NaN weights break the
    model's next forward; reported as step 3 either way, and no checkpoint after step 0."""
    data = tiny_slice()
    model = ganzoo.build_model("gan", data.spec, TINY["gan"])
    options = TrainOptions(
        steps=10, batch_size=16, log_every=5, checkpoint_every=100, sample_every=100, quiet=True
    )
    trainer = Trainer(model, data, options, run_dir=tmp_path)
    phase, calls = trainer.phases[-1], []
    original = phase.loss

    def poisoned(batch):
        loss, logs = original(batch)
        calls.append(1)
        return (loss * float("inf") if len(calls) == 3 else loss), logs

    phase.loss = poisoned
    with pytest.raises(ganzoo.DivergenceError, match=rf"phase {phase.name!r} at step 3;.*00000000"):
        trainer.fit()
    assert 3 <= trainer.step <= 5
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [0]


def test_channels_last_trains_a_convolutional_model_like_the_default_layout():
    data, results = tiny_slice(), {}
    for layout in (False, True):
        torch.manual_seed(0)
        model = ganzoo.build_model("dcgan", data.spec, TINY["dcgan"])
        options = TrainOptions(steps=10, batch_size=16, quiet=True, channels_last=layout)
        trainer = Trainer(model, data, options)
        convs = [p for p in model.parameters() if p.dim() == 4 and min(p.shape[1:]) > 1]
        assert convs and all(
            p.is_contiguous(memory_format=torch.channels_last) == layout
            and p.is_contiguous() != layout
            for p in convs
        )
        trainer.fit()
        results[layout] = torch.cat([p.detach().flatten() for p in model.parameters()])
    torch.testing.assert_close(results[True], results[False], rtol=1e-4, atol=1e-5)
