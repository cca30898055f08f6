"""Whether two models differ: the paired bootstrap of their difference, metric by metric.

Two 95% intervals that overlap do not say that two models are alike: each
interval carries the noise of *both* image sets, the real ones included, and
the real images are the same for the two models.  Replicate i of every result
of one protocol resamples the real features identically (``replicates``), so
``A_i - B_i`` keeps only what differs between the models' images; the
bias-corrected percentile interval of those differences is the answer, and
usually much narrower than either model's own interval.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ..errors import GanzooError
from .protocol import SHORT, identity, protocol_id
from .replicates import BOUNDS, KEPT, SCHEME, interval

#: What makes two protocols measure differently, and the options that make them agree.
_FIXES = {
    "reference": "the reference (pass the same --dataset/--split/--num-real)",
    "extractor": "the extractor (pass the same --extractor/--extractor-weights)",
    "num_images": "the number of generated images (pass the same --num-samples)",
    "num_seeds": "the number of sampling seeds (pass the same --seeds)",
    "settings": "the metric settings (pass the same --metrics/--kid-subset-size)",
}


@dataclass
class Difference:
    """One metric's paired difference A - B, its replicates, 95% interval and verdict."""

    key: str
    a: float
    b: float
    difference: float
    interval: list[float]
    replicates: list[float]
    verdict: str

    @property
    def separated(self) -> bool:
        """Whether the interval leaves out 0: a difference these images can tell."""
        return not self.interval[0] <= 0 <= self.interval[1]


@dataclass
class Paired:
    """The paired comparison of two results: one ``Difference`` per metric both kept."""

    protocol_ids: tuple[str, str]
    compared: dict[str, Any]
    differences: list[Difference]
    resamples: int
    notes: list[str] = field(default_factory=list)

    def get(self, key: str) -> Difference | None:
        return next((d for d in self.differences if d.key == key), None)

    def lines(self) -> list[str]:
        """One line per metric: A's and B's numbers and the verdict on A - B."""
        return [
            f"  {SHORT.get(d.key, d.key):<10} A {_g(d.a):<8} B {_g(d.b):<8} {d.verdict}"
            for d in self.differences
        ] + self.notes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _g(x: float) -> str:
    return f"{x:.3g}"


def measurement(protocol: dict[str, Any]) -> dict[str, Any]:
    """What a number measured: what the protocol id hashes, without how the images were drawn
    (chunks and their seeding): a model's samples and a folder of images are measured alike."""
    p = identity(protocol)
    generated = p.get("generated") or {}
    p["generated"] = {k: generated.get(k) for k in ("num_images", "num_seeds")}
    return p


def incomparable(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    """Why results ``a`` and ``b`` (as stored) cannot be paired, with how to fix it; else None."""
    pa, pb = (measurement(r.get("protocol") or {}) for r in (a, b))
    if pa != pb:
        what = []
        for key in sorted(set(pa) | set(pb)):
            if key == "generated":
                what += [_FIXES[k] for k in ("num_images", "num_seeds") if pa[key][k] != pb[key][k]]
            elif pa.get(key) != pb.get(key):
                what.append(_FIXES.get(key, f"the protocol's {key} (score both with this ganzoo)"))
        return f"A and B were measured differently: {'; '.join(what)}"
    schemes = [((r["protocol"].get("settings") or {}).get("bootstrap") or {}) for r in (a, b)]
    if schemes[0] != schemes[1] or schemes[0].get("scheme") != SCHEME:
        return (
            "A and B were not bootstrapped alike (settings.bootstrap differs or predates paired "
            "replicates); score both again with this ganzoo version"
        )
    return None


def paired(a: Any, b: Any) -> Paired:
    """The paired difference A - B of two results of one protocol (``EvalResult`` or a result
    file's JSON), for FID, KID, precision, recall, density, coverage and CMMD where both kept
    bootstrap replicates.  With several sampling seeds the replicates are the first seed's,
    centred on the difference of the means."""
    a, b = (r.as_dict() if hasattr(r, "as_dict") else r for r in (a, b))
    problem = incomparable(a, b)
    if problem is not None:
        raise GanzooError(problem)
    kept = [r.get("bootstrap_replicates") or {} for r in (a, b)]
    counts = {"generated": a["compared"]["generated"], "real": a["compared"]["real"]}
    differences = []
    for key in KEPT:
        if key not in kept[0] or key not in kept[1] or len(kept[0][key]) != len(kept[1][key]):
            continue
        va, vb = a["metrics"][key], b["metrics"][key]
        delta, values = difference(key, va, vb, kept[0][key], kept[1][key])
        verdict = _verdict(key, va - vb, delta, counts)
        differences.append(Difference(key, va, vb, va - vb, delta, values, verdict))
    if not differences:
        raise GanzooError(
            "neither A nor B kept bootstrap replicates of a common metric (FID, KID, precision, "
            "recall, density, coverage or CMMD); score them with one of those --metrics"
        )
    ids = (protocol_id(a["protocol"]), protocol_id(b["protocol"]))
    done = {d.key for d in differences}
    other = [SHORT.get(k, k) for k in a["metrics"] if k in b["metrics"] and k not in done]
    notes = [f"  not compared (no paired replicates): {', '.join(other)}"] if other else []
    return Paired(ids, counts, differences, len(differences[0].replicates), notes)


def difference(
    key: str, a: float, b: float, replicates_a: list[float], replicates_b: list[float]
) -> tuple[list[float], list[float]]:
    """(95% interval, replicates) of A - B of metric ``key`` from two results' paired replicates;
    the interval is clipped to what a difference can take (precision's to [-1, 1])."""
    values = (np.asarray(replicates_a, float) - np.asarray(replicates_b, float)).tolist()
    low, high = BOUNDS.get(key, (-np.inf, np.inf))
    return interval(values, a - b, (low - high, high - low)), values


def _verdict(key: str, point: float, delta: list[float], counts: dict[str, Any]) -> str:
    """In words: which is higher and by how much, or how many images might tell."""
    name, low, high = SHORT.get(key, key), *delta
    if not low <= 0 <= high:
        word, size = ("lower", [-high, -low]) if high < 0 else ("higher", [low, high])
        return (
            f"A's {name} is {word} by {_g(abs(point))} [{_g(size[0])}, {_g(size[1])}]: "
            "a real difference at these sizes"
        )
    sizes = _sizes(counts["generated"], counts["real"], 1.0)
    measured = f"A-B {_g(point)} [{_g(low)}, {_g(high)}]"
    if point == 0:
        return f"{measured}: no difference at all with {sizes}"
    factor = ((high - low) / 2 / abs(point)) ** 2
    if factor <= 1:  # a lopsided interval that only just reaches 0
        return f"{measured}: no difference detectable with {sizes}, though 0 is at its edge"
    return (
        f"{measured}: no difference detectable with {sizes}; about "
        f"{_sizes(*counts.values(), factor)} would tell if it held (an estimate: the interval "
        "narrows as 1/sqrt(N))"
    )


def _sizes(generated: int, real: int, factor: float) -> str:
    """``500 images`` (as many of each), else ``500 generated and 1,000 real images``; an
    estimate (``factor`` != 1) to two significant digits."""
    n, m = (_round(c * factor) if factor != 1 else c for c in (generated, real))
    return f"{n:,} images" if n == m else f"{n:,} generated and {m:,} real images"


def _round(x: float) -> int:
    digits = max(int(math.floor(math.log10(max(x, 1)))) - 1, 0)
    return int(round(math.ceil(x) / 10**digits) * 10**digits)
