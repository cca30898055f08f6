"""``ganzoo train`` and ``ganzoo sample``."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("train")
@click.option(
    "--model", "-m", "model_name", required=True, help="Model name (see `ganzoo models`)."
)
@click.option(
    "--dataset",
    "-d",
    default="mnist5k",
    show_default=True,
    help="Dataset name or folder:PATH / npz:PATH.",
)
@click.option("--split", default="train", show_default=True, type=click.Choice(["train", "all"]))
@click.option(
    "--data-root", type=click.Path(file_okay=False), help="Where file-based datasets live."
)
@click.option("--download", is_flag=True, help="Allow torchvision datasets to download.")
@click.option(
    "--steps",
    default=2000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Training steps (total, across resumes).",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Default: the model's own.")
@click.option(
    "--set", "sets", multiple=True, metavar="KEY=VALUE", help="Set a hyperparameter (repeatable)."
)
@click.option(
    "--config", "config_file", type=click.Path(dir_okay=False), help="TOML file of hyperparameters."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="Run directory; reusing one resumes it. Default: runs/<model>-<dataset>-<time>.",
)
@click.option("--name", help="Run name used in the default --out instead of the time.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--amp", is_flag=True, help="Mixed precision on CUDA.")
@click.option(
    "--amp-dtype", default="bfloat16", show_default=True, type=click.Choice(["bfloat16", "float16"])
)
@click.option("--compile", "compile_", is_flag=True, help="torch.compile the model's networks.")
@click.option(
    "--ema/--no-ema", default=None, help="EMA of the generator (default: the model's choice)."
)
@click.option("--ema-decay", default=0.999, show_default=True, type=float)
@click.option(
    "--ema-start",
    default=0,
    show_default=True,
    type=int,
    help="Step before which the EMA copies the weights.",
)
@click.option("--grad-clip", type=float, help="Clip each optimizer's gradient norm to this value.")
@click.option("--checkpoint-every", default=500, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--keep",
    "keep_last",
    default=3,
    show_default=True,
    type=click.IntRange(min=0),
    help="Checkpoints to keep (0: all).",
)
@click.option("--sample-every", default=500, show_default=True, type=click.IntRange(min=1))
@click.option("--log-every", default=50, show_default=True, type=click.IntRange(min=1))
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def train_cmd(model_name, dataset, split, data_root, download, steps, batch_size, sets, config_file,
              out, name, seed, device, amp, amp_dtype, compile_, ema, ema_decay, ema_start, grad_clip,
              checkpoint_every, keep_last, sample_every, log_every, quiet) -> None:  # fmt: skip
    """Train a model; running the same command again with the same --out resumes it."""
    import torch

    from .. import config as config_mod
    from ..data.registry import load_dataset
    from ..errors import Terminated, interruption
    from ..model import model_class
    from ..train import run as run_mod
    from ..train.trainer import Trainer, TrainOptions

    cls = model_class(model_name)
    hyper = config_mod.resolve(cls.Config, sets, config_file)
    data = load_dataset(dataset, split, data_root=data_root, download=download)
    options = TrainOptions(
        steps=steps, batch_size=batch_size or cls.default_batch_size, seed=seed, device=device,
        amp=amp, amp_dtype=amp_dtype, compile=compile_, ema=ema, ema_decay=ema_decay,
        ema_start=ema_start, grad_clip=grad_clip, checkpoint_every=checkpoint_every,
        keep_last=keep_last, sample_every=sample_every, log_every=log_every, quiet=quiet,
    )  # fmt: skip
    run_dir = Path(out) if out else run_mod.default_run_dir(model_name, dataset, name)

    torch.manual_seed(seed)
    model = cls(hyper, data.spec)
    # The dataset as typed (e.g. folder:PATH) is what a later resume must match.
    trainer = Trainer(model, data, options, run_dir=run_dir, run_info={"dataset": dataset})
    run_mod.check_resumable(run_dir, trainer.run_info)
    if not quiet:
        click.echo(
            f"training {cls.name} ({model.num_parameters():,} parameters) on {dataset} "
            f"[{len(data)} images] for {steps} steps, batch {options.batch_size}, "
            f"device {trainer.device} -> {run_dir}",
            err=True,
        )
    try:
        result = trainer.fit()
    except (KeyboardInterrupt, Terminated) as exc:
        advice = f"run the same command again to resume from the last checkpoint in {run_dir}"
        raise interruption(exc, advice) from None
    click.echo(
        f"done: step {result.step}, {result.elapsed_s:.1f}s of training, "
        f"checkpoint {result.checkpoint}, samples in {run_dir / 'samples'}"
    )


@click.command("sample")
@click.argument("run", type=click.Path(exists=True))
@click.option("--checkpoint", type=int, help="Step of the checkpoint (default: latest).")
@click.option("--n", "n", default=64, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option(
    "--ema/--no-ema", default=None, help="Use EMA weights (default: when the run has them)."
)
@click.option("--device", default="auto", show_default=True)
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False), help="grid.png or samples.npz"
)
def sample_cmd(run, checkpoint, n, seed, ema, device, out) -> None:
    """Sample from a run directory or checkpoint file into a PNG grid or an .npz of uint8 images."""
    import numpy as np
    import torch

    from ..atomic import atomic_write
    from ..data.base import to_uint8
    from ..device import resolve_device
    from ..errors import GanzooError
    from ..train.logger import save_grid
    from ..train.run import load_run

    out_path = Path(out)
    if out_path.suffix.lower() not in (".png", ".npz"):
        raise GanzooError(f"--out must end in .png or .npz, not {out_path.name!r}")
    loaded = load_run(run, checkpoint, device=resolve_device(device), use_ema=ema)
    with torch.no_grad():
        images = loaded.model.sample(n, generator=torch.Generator().manual_seed(seed)).cpu()
    if out_path.suffix.lower() == ".png":
        save_grid(images, loaded.spec.value_range, out_path)
    else:
        array = to_uint8(images, loaded.spec.value_range).permute(0, 2, 3, 1).numpy()
        with atomic_write(out_path) as fh:
            np.savez_compressed(fh, images=array)
    weights = "EMA" if loaded.ema else "raw"
    click.echo(f"wrote {n} samples from step {loaded.step} ({weights} weights) to {out_path}")


COMMANDS = [train_cmd, sample_cmd]
