"""The protocol: everything that changes a number, stored next to it.

A FID is only comparable to another FID computed with the same reference,
sample count, extractor weights and resize.  The protocol is plain JSON; its
hash names the result file, so evaluations under different protocols never
overwrite each other and equal protocols replace the older result.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text

VERSION = 1

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
}


def protocol_hash(protocol: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(protocol, sort_keys=True).encode()).hexdigest()[:16]


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

    @property
    def protocol_hash(self) -> str:
        return protocol_hash(self.protocol)

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
            "per_seed": self.per_seed,
            "bits_per_dim": self.bits_per_dim,
            "protocol": self.protocol,
            "protocol_hash": self.protocol_hash,
            **self.extra,
        }

    def write(self, run_dir: Path) -> Path:
        """``RUN/eval/<protocol-hash>.json``, written atomically."""
        path = Path(run_dir) / "eval" / f"{self.protocol_hash}.json"
        atomic_write_text(path, json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n")
        self.path = path
        return path

    def summary(self) -> str:
        p = self.protocol
        ext = p["extractor"]
        lines = [
            f"{self.target}"
            + (
                f"  (step {p['checkpoint']['step']}, EMA {p['checkpoint']['ema']})"
                if p.get("checkpoint")
                else ""
            )
        ]
        seeds = len(self.per_seed)
        for key, value in self.metrics.items():
            spread = f" ± {self.metrics_std[key]:.4g} over {seeds} seeds" if seeds > 1 else ""
            lines.append(f"  {SHORT.get(key, key):<18} {value:.6g}{spread}")
        if self.bits_per_dim is not None:
            lines.append(f"  {'bits/dim':<18} {self.bits_per_dim:.6g}")
        ref = p.get("reference")
        ref_text = f"{ref['dataset']}:{ref['split']} ({ref['num_images']} real)" if ref else "none"
        lines.append(
            f"  protocol {self.protocol_hash}: {p['generated']['num_images']} generated vs {ref_text}, "
            f"extractor {ext['name']} (weights {str(ext['weights_sha256'])[:12]}, {ext['weights_source']})"
        )
        if self.path:
            lines.append(f"  written to {self.path}")
        return "\n".join(lines)
