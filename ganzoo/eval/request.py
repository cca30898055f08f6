"""``EvalRequest``: how to score, defined once for ``ganzoo.evaluate``, ``ganzoo eval`` and leaderboards.

Everything but the thing being scored.  ``ganzoo.evaluate(target, **fields)``
takes these fields, ``ganzoo eval`` and ``ganzoo eval leaderboard`` derive their
options from them (``ganzoo.commands.options``), and the leaderboard decides
"already scored" by comparing a result's protocol against the same request.
This module imports no torch, so ``ganzoo --help`` stays fast.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from ..config import check_ranges, option
from ..errors import GanzooError
from ..load.loaded import EMA_HELP
from ..seeds import MAX_SEED

#: Images one evaluation may ask for: 200x the customary 50,000, far below what would exhaust
#: memory before the first image (a typo of 10**12 must fail at once, not after hours).
MAX_IMAGES = 10_000_000
MAX_SEEDS = 1000
#: Images per feature-extraction batch: 4,096 299x299 images are 4.4 GB of float input.
MAX_BATCH = 4096


@dataclass
class EvalRequest:
    """The protocol asked for; ``None`` fields take the documented defaults."""

    dataset: str | None = option(
        None, "Reference dataset (default: the run's own; mnist5k for samples)."
    )
    split: str | None = option(
        None, "Reference split (default: test; all when --dataset names an npz:/folder:)."
    )
    metrics: str | None = option(
        None,
        "Comma-separated: is, fid, fid_inf, kid, pr, dc (density/coverage), cmmd, ifid "
        "(intra-FID), classes (accuracy and class histogram), memorization (copies of training "
        "images) (default: all the extractor serves; fid_inf, dc, cmmd and memorization only "
        "when asked).",
    )
    train_dataset: str | None = option(
        None,
        "The images the model was trained on, for --metrics memorization (default: the run's "
        "own training split; needed for folders and .npz, e.g. mnist5k or npz:train.npz).",
    )
    extractor: str | None = option(
        None,
        "Feature extractor (default: the one registered for the images' shape); "
        "`ganzoo extractors` lists them, plugins' included.",
    )
    extractor_weights: str | None = option(
        None,
        "Weights file for the extractor (for inception-v3-compat: torch-fidelity's .pth).",
        aliases=("--inception-weights",),
    )
    num_samples: int | None = option(
        None, "Generated images (default: as many as real ones).", min=1, max=MAX_IMAGES
    )
    num_real: int | None = option(
        None, "Use a fixed random subset of this many real images.", min=1, max=MAX_IMAGES
    )
    seeds: int = option(1, "Sampling seeds: mean ± std over seeds.", min=1, max=MAX_SEEDS)
    seed: int = option(0, "First sampling seed.", min=0, max=MAX_SEED)
    kid_subset_size: int | None = option(
        None, "KID subset size (default: min(1000, #images)).", min=2, max=MAX_IMAGES
    )
    batch_size: int | None = option(
        None,
        "Images per feature-extraction batch (default: the extractor's fastest for the device, "
        "`ganzoo extractors` lists them; does not change results).",
        min=1,
        max=MAX_BATCH,
    )
    device: str = option("cpu", "cpu, cuda, cuda:N or auto.")
    ema: bool | None = option(None, EMA_HELP)
    sampling: tuple[str, ...] = option(
        (),
        "A sampling-time setting of the model, KEY=VALUE (repeatable; e.g. sampler=ddim, "
        "sample_steps=250); `ganzoo models -v` marks them.",
        flag="--set",
        metavar="KEY=VALUE",
    )
    data_root: str | None = option(None, "Where file-based datasets live.")

    @classmethod
    def of(cls, options: dict[str, Any]) -> EvalRequest:
        """From keyword arguments, with an unknown one named (a typo must not be dropped)."""
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise GanzooError(
                f"unknown evaluation option(s) {', '.join(map(repr, unknown))}; "
                f"valid: {', '.join(names)}"
            )
        sampling = options.get("sampling") or ()
        if isinstance(sampling, dict):  # the library's way: sampling={"sample_steps": 250}
            sampling = setting_texts(sampling)
        elif isinstance(sampling, str):
            sampling = (sampling,)
        return cls(**{**options, "sampling": tuple(sampling)})

    @classmethod
    def from_protocol(cls, protocol: dict[str, Any], **options: Any) -> EvalRequest:
        """The request that measures again under a recorded protocol (device and batch aside)."""
        ref = protocol.get("reference") or {}
        generated = protocol.get("generated") or {}
        seeds = generated.get("seeds") or [0]
        return cls.of(
            {
                "dataset": ref.get("dataset"),
                "split": ref.get("split"),
                "metrics": ",".join(protocol["metrics"]),
                "extractor": protocol["extractor"]["name"],
                "num_samples": generated.get("num_images"),
                "num_real": ref.get("num_images") if ref.get("subset_seed") is not None else None,
                "seeds": len(seeds),
                "seed": seeds[0],
                "kid_subset_size": (protocol.get("settings") or {}).get("kid_subset_size"),
                "train_dataset": (protocol.get("training") or {}).get("dataset"),
                "sampling": setting_texts((generated.get("sampling") or {}).get("settings") or {}),
                **options,
            }
        )

    @property
    def reference_split(self) -> str:
        """The split asked for; else all of a file the user named (``npz:``/``folder:``), else test."""
        from ..data.registry import names_a_path

        if self.split is not None:
            return self.split
        if self.dataset is not None and names_a_path(self.dataset):
            return "all"
        return "test"

    @property
    def sampling_overrides(self) -> dict[str, str]:
        """``--set`` as ``{key: text}``; a malformed item is a one-line error."""
        from ..config import parse_sets

        return parse_sets(list(self.sampling))

    def check(self) -> None:
        """Counts and seeds that can be refused before anything is loaded (the fields' bounds)."""
        _ = self.sampling_overrides
        check_ranges(self)


def setting_texts(settings: dict[str, Any]) -> tuple[str, ...]:
    """``{"sample_steps": 50}`` -> ``("sample_steps=50",)``, as ``--set`` takes them."""

    def text(value: Any) -> str:
        if isinstance(value, list | tuple):
            return ",".join(text(v) for v in value)
        return (
            "none"
            if value is None
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
        )

    return tuple(f"{key}={text(value)}" for key, value in sorted(settings.items()))
