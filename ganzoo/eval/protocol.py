"""The protocol: everything that changes a number, stored next to it.

A FID is only comparable to another FID computed with the same reference,
sample count, extractor weights and resize.  The protocol is plain JSON.  Its
*comparable* part (without the checkpoint, versions, batch size, device, where
the weights came from, and how the model drew its images) has one id, the
``protocol_id``: equal ids mean numbers that may be ranked together, and it is
the id every command, result file and leaderboard shows.

How a model drew its images (sampler, steps, guidance, temperature, and the
NFE they cost) is the model's choice, not the evaluator's: a diffusion model
at 50 steps and a GAN are ranked in one table, each row saying how it sampled.
Which metrics a result measured does not split a table either (a metric not
measured is an empty cell): the metric list, the extractor layers and the
settings recorded only with a metric's own result are left out of the id.

A result file is named by checkpoint, id and sampling settings, so evaluating
a checkpoint again the same way replaces the older result, and other
protocols or settings never overwrite each other.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..files.write import atomic_write_text

#: 2: the protocol records how a model's images were drawn (``generated.sampling``).
VERSION = 2

#: torch-fidelity result keys -> short names for summaries.
SHORT = {
    "inception_score_mean": "IS",
    "inception_score_std": "IS std (splits)",
    "frechet_inception_distance": "FID",
    "kernel_inception_distance_mean": "KID",
    "kernel_inception_distance_std": "KID std (subsets)",
    "precision": "precision",
    "recall": "recall",
    "f_score": "F-score",
    "density": "density",
    "coverage": "coverage",
    "cmmd": "CMMD",
    "copy_rate": "copy rate",
    "data_copying_ct": "C_T (Meehan)",
    "copy_rate_pixels": "copy rate (pixels)",
    "data_copying_ct_pixels": "C_T (pixels)",
    "fid_infinity": "FID∞",
    "intra_fid": "intra-FID",
    "classification_accuracy": "accuracy",
    "class_histogram_tv": "class TV (uniform)",
}


def comparable_protocol(protocol: dict[str, Any]) -> dict[str, Any]:
    """The parts of a protocol that decide whether two numbers may be ranked together.

    Idempotent, so a board's stored comparable protocols (whose rows' runs may
    be gone) are brought to today's rule by applying it again.
    """
    p = json.loads(json.dumps(protocol))
    for key in ("checkpoint", "versions", "batch_size", "device", "launch", "bits_per_dim_split"):
        p.pop(key, None)
    generated = p.get("generated") or {}
    seeds = generated.get("seeds")
    p["generated"] = {
        "num_images": generated.get("num_images"),
        "num_seeds": len(seeds) if seeds else generated.get("num_seeds", 1),
        "sample_chunk": generated.get("sample_chunk"),
    }
    if generated.get("seeding"):  # absent before per-chunk seeds (one generator for all chunks)
        p["generated"]["seeding"] = generated["seeding"]
    (p.get("extractor") or {}).pop("weights_source", None)
    # How the intervals and FID∞ were drawn is recorded, but does not change the
    # headline numbers: results with and without intervals rank together.
    for key in ("bootstrap", "fid_inf"):
        (p.get("settings") or {}).pop(key, None)
    return p


#: Recorded only for the metrics a result measured (``settings`` keys, and ``training`` for
#: memorization): constants of each metric's implementation, left out of the id so that
#: which metrics were measured does not split a table.
MEASURED_SETTINGS = ("dc_neighborhood", "cmmd")


def identity(protocol: dict[str, Any]) -> dict[str, Any]:
    """What the id hashes: the comparable protocol without what only says which metrics ran."""
    p = comparable_protocol(protocol)
    for key in ("metrics", "training"):
        p.pop(key, None)
    (p.get("extractor") or {}).pop("layers", None)
    for key in MEASURED_SETTINGS:
        (p.get("settings") or {}).pop(key, None)
    return p


def protocol_id(protocol: dict[str, Any]) -> str:
    """Short hash of the comparable protocol: equal ids, comparable numbers."""
    text = json.dumps(identity(protocol), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def sampling_settings(protocol: dict[str, Any]) -> dict[str, Any] | None:
    """The sampler settings a model's images were drawn with; None for images not drawn."""
    drawn = (protocol.get("generated") or {}).get("sampling")
    if not isinstance(drawn, dict):
        return None
    settings = drawn.get("settings")
    return settings if isinstance(settings, dict) else {}


def sampling_text(settings: dict[str, Any] | None) -> str | None:
    """``sampler=ddim, sample_steps=50``: a row's sampling column; None without settings."""
    if not settings:
        return None
    return ", ".join(f"{k}={v}" for k, v in settings.items())


def result_key(result: dict[str, Any]) -> tuple[Any, ...] | None:
    """(protocol id, checkpoint step, EMA, sampling settings) of a stored result: what one
    result file stands for."""
    protocol = result.get("protocol")
    if not isinstance(protocol, dict):
        return None
    checkpoint = protocol.get("checkpoint")
    checkpoint = checkpoint if isinstance(checkpoint, dict) else {}  # a malformed file's
    drawn = json.dumps(sampling_settings(protocol), sort_keys=True)
    return protocol_id(protocol), checkpoint.get("step"), checkpoint.get("ema"), drawn


def result_file_name(protocol: dict[str, Any]) -> str:
    """``step-00001000-ema-<protocol id>[-<settings>].json``: unique per checkpoint, comparable
    protocol and sampling settings (models without sampler settings have no suffix)."""
    checkpoint = protocol.get("checkpoint")
    settings = sampling_settings(protocol)
    suffix = ""
    if settings:
        text = json.dumps(settings, sort_keys=True).encode()
        suffix = "-s" + hashlib.sha256(text).hexdigest()[:6]
    if not checkpoint:
        return f"{protocol_id(protocol)}{suffix}.json"
    weights = "ema" if checkpoint.get("ema") else "raw"
    return f"step-{int(checkpoint['step']):08d}-{weights}-{protocol_id(protocol)}{suffix}.json"


#: How to read the memorization numbers (Meehan et al. 2020's sign convention for C_T).
COPYING = (
    "copy rate: generated images nearer a training image than 95% of held-out real images are "
    "(held-out real images: 0.05); C_T < 0: generated images sit nearer the training images "
    "than held-out ones do (copying), > 0: farther (Meehan et al. 2020)"
)


@dataclass
class EvalResult:
    """Numbers (means over seeds), their spread over seeds, and the protocol that produced them."""

    target: str
    metrics: dict[str, float]
    metrics_std: dict[str, float]
    per_seed: list[dict[str, float]]
    bits_per_dim: float | None
    protocol: dict[str, Any]
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: result key -> [low, high]: the bootstrap 95% interval (settings.bootstrap in the protocol).
    intervals: dict[str, list[float]] = field(default_factory=dict)
    #: result key -> the replicates behind the interval, kept so that two results of one
    #: protocol can be compared pairwise (``ganzoo.eval.paired``).
    bootstrap_replicates: dict[str, list[float]] = field(default_factory=dict)
    #: The run the scored checkpoint belongs to (None: no run); where ``keep`` writes.
    run_dir: Path | None = field(default=None, repr=False)

    @property
    def protocol_id(self) -> str:
        return protocol_id(self.protocol)

    @property
    def protocol_hash(self) -> str:
        """The former name of ``protocol_id``."""
        return self.protocol_id

    @property
    def compared(self) -> dict[str, int | None]:
        """How many generated and real images the numbers compare (real: None without a reference)."""
        reference = self.protocol.get("reference") or {}
        return {
            "generated": self.protocol["generated"]["num_images"],
            "real": reference.get("num_images"),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "compared": self.compared,
            "metrics": self.metrics,
            "metrics_std_over_seeds": self.metrics_std,
            "intervals": self.intervals,
            "bootstrap_replicates": self.bootstrap_replicates,
            "per_seed": self.per_seed,
            "bits_per_dim": self.bits_per_dim,
            "protocol": self.protocol,
            "protocol_id": self.protocol_id,
            **self.extra,
        }

    def write(self, run_dir: Path) -> Path:
        """``RUN/eval/<result_file_name>``, written atomically, replacing older files of its key.

        Files of earlier versions (named by a hash of the whole protocol) stay
        readable; one that holds the same checkpoint and comparable protocol is
        the older result and is removed.
        """
        folder = Path(run_dir) / "eval"
        path = folder / result_file_name(self.protocol)
        atomic_write_text(path, json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n")
        key = result_key(self.as_dict())
        for other in folder.glob("*.json"):
            if other != path and _key_of(other) == key:
                other.unlink(missing_ok=True)
        self.path = path
        return path

    def keep(self) -> Path | None:
        """Written into its run (``write``) and handed to a tracked run's trackers, as
        ``ganzoo eval`` keeps every result of a run; None when it belongs to no run."""
        if self.run_dir is None:
            return None
        from ..track.fanout import results_to_run

        path = self.write(self.run_dir)
        step = (self.protocol.get("checkpoint") or {}).get("step")
        if step is not None:  # a tracked run's trackers get it too
            results_to_run(self.run_dir, step, self.as_dict(), path)
        return path

    def summary(self) -> str:
        p = self.protocol
        ext = p["extractor"]
        point = p.get("checkpoint") or {}
        chosen = f", the {point['selected']}" if point.get("selected") else ""
        where = f"  (step {point['step']}, EMA {point['ema']}{chosen})" if point else ""
        lines = [f"{self.target}{where}"]
        seeds = len(self.per_seed)
        for key, value in self.metrics.items():
            if key == "kernel_inception_distance_std" and kid_subsets_are_whole_sets(p):
                continue  # results stored before such a std was dropped at the source
            low_high = self.intervals.get(key)
            interval = f" [{low_high[0]:.4g}, {low_high[1]:.4g}]" if low_high else ""
            spread = f" ± {self.metrics_std[key]:.4g} over {seeds} seeds" if seeds > 1 else ""
            lines.append(f"  {SHORT.get(key, key):<18} {value:.6g}{interval}{spread}")
        if self.intervals:
            lines.append("  [low, high]: bootstrap 95% interval over the images compared")
        if "copy_rate" in self.metrics:
            lines.append(f"  {COPYING}")
        for metric, why in (self.extra.get("not_measured") or {}).items():
            lines.append(f"  {metric.upper():<18} not measured: {why}")
        if self.bits_per_dim is not None:
            lines.append(f"  {'bits/dim':<18} {self.bits_per_dim:.6g}")
        drawn = p["generated"].get("sampling")
        if drawn:
            settings = ", ".join(f"{k}={v}" for k, v in drawn["settings"].items())
            labels = "; labels balanced over the classes" if drawn.get("labels") else ""
            lines.append(
                f"  sampled with {settings or 'the model defaults'}: {drawn['nfe']} network "
                f"evaluations per image{labels}"
            )
        ref = p.get("reference")
        ref_text = f"{ref['dataset']}:{ref['split']} ({ref['num_images']} real)" if ref else "none"
        lines.append(
            f"  protocol {self.protocol_id}: {p['generated']['num_images']} generated vs {ref_text}, "
            f"extractor {ext['name']} (weights {str(ext['weights_sha256'])[:12]}, {ext['weights_source']})"
        )
        if self.path:
            lines.append(f"  written to {self.path}")
        return "\n".join(lines)


def kid_subsets_are_whole_sets(protocol: dict[str, Any]) -> bool:
    """KID's subsets each held every image of both sets, so its std over them means nothing."""
    size = (protocol.get("settings") or {}).get("kid_subset_size")
    counts = (
        protocol["generated"].get("num_images"),
        (protocol.get("reference") or {}).get("num_images"),
    )
    return isinstance(size, int) and all(isinstance(n, int) and size >= n for n in counts)


def _key_of(path: Path) -> tuple[Any, ...] | None:
    try:
        data = json.loads(path.read_text())
        return result_key(data) if isinstance(data, dict) else None
    except (OSError, ValueError, AttributeError, TypeError):  # unreadable or malformed
        return None
