"""Does the model hand back its training images?  Copy rate and Meehan et al.'s C_T.

FID, precision/recall and density reward a generator that reproduces its training
set, so a model that memorised scores like a perfect one.  Both numbers here ask
instead how close generated images sit to their nearest *training* image next to
real images the model never saw (held-out): a copier sits closer, a generaliser
as close, an underfitter farther.  The copy rate is the plain answer (held-out
images score 0.05 by construction, a copier near 1), but being global it lets
copying in one mode hide behind underfitting in another; C_T (Meehan, Chaudhuri &
Dasgupta, AISTATS 2020) compares the two distance distributions cell by cell.

Distances are float64, formed ``CHUNK`` query rows at a time (``density``), and the
chosen pair's distance recomputed from the difference, so an exact copy is 0, not
the matrix product's rounding.  Bootstrap replicates reuse them (cells stay fixed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch

from ..errors import GanzooError
from .density import CHUNK, chunks
from .replicates import LEVEL, RESAMPLES, SEED

#: k-means cells, and "more than this many generated rows" for a cell to count in C_T:
#: the reference's MNIST experiments (``n_clusters = 50``, ``tau = 20 / len(Qm)``).
CELLS = 50
CELL_TAU = 20
#: A generated image closer to training than this quantile of held-out images counts as a copy.
QUANTILE = 0.05


def _problem(sets: dict[str, torch.Tensor], quantile: float, cells: Any) -> str | None:
    """What is wrong with the input, in one line, or None."""
    for name, x in sets.items():
        if x.dim() != 2:
            return f"memorization needs {name} as a 2-D (images x features) tensor, got shape {tuple(x.shape)}"
        if not torch.isfinite(x).all():
            return f"{name} features contain NaN or infinite values"
    if len({x.shape[1] for x in sets.values()}) > 1:
        widths = ", ".join(f"{name} {x.shape[1]}" for name, x in sets.items())
        return f"features differ in width ({widths}); extract all with the same feature layer"
    if not 0 < quantile < 1:
        return f"the copy-rate quantile must lie between 0 and 1, got {quantile}"
    need = math.ceil(round(1 / quantile, 9))  # 1/0.05 is 20.000000000000004
    n_t, n_h, n_g = (len(sets[s]) for s in ("train", "heldout", "generated"))
    if n_h < need:
        return f"a {quantile:g} quantile threshold needs at least {need} held-out images, got {n_h}; use more held-out images or a larger quantile"
    if n_g < 1:
        return "memorization needs at least one generated image, got 0"
    k = len(sets["centroids"]) if "centroids" in sets else cells
    if k < 1 or n_t < k:
        return f"C_T needs between 1 cell and one per training image ({n_t}), got cells={k}"
    return None


def _checked(train, heldout, generated, quantile: float, cells) -> dict[str, torch.Tensor]:
    """The sets as float64 on the training set's device, or a one-line GanzooError."""
    sets = {"train": train, "heldout": heldout, "generated": generated}
    if isinstance(cells, torch.Tensor | np.ndarray):
        sets["centroids"] = cells
    sets = {name: torch.as_tensor(x) for name, x in sets.items()}
    if problem := _problem(sets, quantile, cells):
        raise GanzooError(problem)
    return {name: x.to(sets["train"].device, torch.float64) for name, x in sets.items()}


def assign(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """Each row's cell: the index of its nearest centroid (by |c|^2 - 2 x.c; rows x cells)."""
    return ((centroids**2).sum(dim=1) - 2 * x @ centroids.T).argmin(dim=1)


def kmeans(x: torch.Tensor, k: int, seed: int = SEED, iterations: int = 20) -> torch.Tensor:
    """Centroids of k cells of the rows of ``x``: k-means++ seeding from ``seed``, then up to
    ``iterations`` Lloyd steps (C_T needs a fixed partition chosen without the generated
    rows, not an optimal one).  Cells left without rows are dropped, so every returned
    centroid's cell holds at least one row of ``x``."""
    rng, k = np.random.default_rng(seed), int(k)
    squares, chosen = (x**2).sum(dim=1), [int(rng.integers(len(x)))]
    closest = torch.full_like(squares, torch.inf)
    for i in range(k - 1):  # the next centroid drawn with probability ~ squared distance
        new = (squares - 2 * x @ x[chosen[i]] + squares[chosen[i]]).clamp(min=0)
        p = (closest := torch.minimum(closest, new)).cpu().numpy()
        if p.sum() <= 0:  # fewer distinct rows than cells
            break
        chosen.append(int(rng.choice(len(x), p=p / p.sum())))
    centroids, labels = x[chosen], None
    for _ in range(iterations):
        new = assign(x, centroids)
        if labels is not None and torch.equal(new, labels):
            break
        labels = new
        counts = torch.bincount(labels, minlength=len(centroids))[:, None]
        sums = torch.zeros_like(centroids).index_add_(0, labels, x)
        centroids = torch.where(counts > 0, sums / counts.clamp(min=1), centroids)
    return centroids[torch.bincount(assign(x, centroids), minlength=len(centroids)) > 0]


def z_u(heldout: np.ndarray, generated: np.ndarray) -> float:
    """Meehan et al.'s Z_U of two samples of distances to the training set: U counts the
    (generated, held-out) pairs whose generated distance is the larger, a tie counting 1/2
    (``scipy.stats.mannwhitneyu(generated, heldout).statistic``), z-scored under H0 as the
    reference's ``Zu``: (U - (mn/2 - 1/2)) / sqrt(mn(m + n + 1)/12), 1/2 its continuity term."""
    ordered, n, m = np.sort(heldout), len(heldout), len(generated)
    u = sum(np.searchsorted(ordered, generated, side).sum() for side in ("left", "right")) / 2
    return float((u - (n * m / 2 - 0.5)) / math.sqrt(n * m * (n + m + 1) / 12))


def data_copying_ct(
    heldout: tuple[np.ndarray, np.ndarray],
    generated: tuple[np.ndarray, np.ndarray],
    train_counts: np.ndarray,
    cell_tau: int = CELL_TAU,
) -> tuple[float, np.ndarray, np.ndarray]:
    """(C_T, each cell's Z_U, which cells count), given for each held-out and generated row
    ``(distance to the nearest training row of its cell, cell)`` and training rows per cell.

    As the reference's ``C_T``: a cell counts when it holds more than ``cell_tau``
    generated rows (Pi_tau), and C_T is the counted cells' Z_U averaged with weights their
    shares of the held-out rows.  Cells without training or held-out rows are skipped too
    (the reference raises; a held-out share of 0 weighs nothing).  NaN when no cell counts."""
    (h_dist, h_cell), (g_dist, g_cell), k = heldout, generated, len(train_counts)
    n_h, n_g = np.bincount(h_cell, minlength=k), np.bincount(g_cell, minlength=k)
    used = (n_g > cell_tau) & (n_h > 0) & (train_counts > 0)
    zu = np.full(k, np.nan)
    for c in np.flatnonzero(used):
        zu[c] = z_u(h_dist[h_cell == c], g_dist[g_cell == c])
    share = n_h[used] / len(h_cell)
    ct = float(share @ zu[used] / share.sum()) if used.any() else math.nan
    return ct, zu, used


class _Side(NamedTuple):
    """A query set against the training set; ``[:2]`` is ``data_copying_ct``'s input."""

    within: np.ndarray  # distance to the nearest training row in the same cell
    cell: np.ndarray
    distance: np.ndarray  # to the nearest training row
    index: np.ndarray


def _side(train, train_cells, x, centroids, chunk) -> _Side:
    """``x`` against the training set, from one pass of chunked distances."""
    cell, overall, inside = assign(x, centroids), [], []
    for start, d in chunks(x, train, chunk):
        overall.append(d.argmin(dim=1))
        other = cell[start : start + len(d), None] != train_cells[None, :]
        inside.append(d.masked_fill_(other, torch.inf).argmin(dim=1))
    index, inside = torch.cat(overall), torch.cat(inside)
    distance, within = ((x - train[i]).norm(dim=1) for i in (index, inside))  # exact, not mm
    within[train_cells[inside] != cell] = torch.inf  # a cell without training rows
    return _Side(*(t.cpu().numpy() for t in (within, cell, distance, index)))


def _interval(values: list[float], estimate: float, bounds=(-math.inf, math.inf)) -> list[float]:
    """Percentile interval shifted by the replicates' mean offset from the estimate, clipped
    to ``bounds`` (as ``uncertainty.bootstrap``); replicates without a C_T are left out."""
    values = [v for v in values if not math.isnan(v)]
    if not values or math.isnan(estimate):
        return [math.nan, math.nan]
    tail, shift = (1 - LEVEL) / 2 * 100, float(np.mean(values)) - estimate
    low, high = (float(np.percentile(values, q)) - shift for q in (tail, 100 - tail))
    return [max(low, bounds[0]), min(high, bounds[1])]


def _bootstrap(h: _Side, g: _Side, estimates, quantile, train_counts, cell_tau, resamples, seed):
    """95% intervals of the copy rate and of C_T (``_interval``): generated and held-out rows
    redrawn with replacement (so the threshold too), distances reused, cells fixed."""
    rng, n, m = np.random.default_rng(seed), len(g.cell), len(h.cell)
    rates, cts = [], []
    for _ in range(resamples):
        ig, ih = rng.integers(0, n, n), rng.integers(0, m, m)
        hr, gr = _Side(*(a[ih] for a in h)), _Side(*(a[ig] for a in g))
        rates.append(float((gr.distance < np.quantile(hr.distance, quantile)).mean()))
        cts.append(data_copying_ct(hr[:2], gr[:2], train_counts, cell_tau)[0])
    return _interval(rates, estimates[0], (0.0, 1.0)), _interval(cts, estimates[1])


@dataclass
class MemorizationReport:
    """Copy rate and C_T with 95% intervals, the cells behind C_T, each generated row's
    nearest training row.  As Meehan et al.: C_T << 0 means data-copying (generated samples
    closer to the training set than held-out ones), C_T >> 0 underfitting, C_T ~ 0 neither."""

    copy_rate: float
    copy_rate_interval: list[float]
    threshold: float
    ct: float
    ct_interval: list[float]
    #: Per cell: its rows of each set, held-out share, Z_U (None when skipped), whether used.
    cells: list[dict[str, Any]]
    #: The partition, to score other models in the same cells (``memorization(cells=...)``).
    centroids: torch.Tensor
    nearest_index: torch.Tensor
    nearest_distance: torch.Tensor
    heldout_distance: torch.Tensor

    def nearest_pairs(self, n: int = 8) -> list[tuple[int, int, float]]:
        """(generated index, training index, distance) of the n generated rows nearest to
        training rows, nearest first: the gallery that shows what was copied."""
        order = torch.argsort(self.nearest_distance, stable=True)[:n].tolist()
        return [(g, int(self.nearest_index[g]), float(self.nearest_distance[g])) for g in order]

    def metrics(self) -> dict[str, float]:
        return {"copy_rate": self.copy_rate, "data_copying_ct": self.ct}

    def intervals(self) -> dict[str, list[float]]:
        return {"copy_rate": self.copy_rate_interval, "data_copying_ct": self.ct_interval}


def memorization(
    train: torch.Tensor,
    heldout: torch.Tensor,
    generated: torch.Tensor,
    *,
    quantile: float = QUANTILE,
    cells: int | torch.Tensor = CELLS,
    cell_tau: int = CELL_TAU,
    seed: int = SEED,
    resamples: int = RESAMPLES,
    chunk: int = CHUNK,
) -> MemorizationReport:
    """Copy rate and C_T of ``generated`` rows against the model's ``train`` rows, with
    ``heldout`` real rows the model never saw as the yardstick (rows are images).

    ``cells``: how many k-means cells of ``train`` (seeded by ``seed``), or the centroids of
    a partition to reuse.  The copy rate's threshold is the ``quantile`` of the held-out
    rows' nearest-training distances; a generated row strictly below it counts as a copy."""
    sets = _checked(train, heldout, generated, quantile, cells)
    train, centroids = sets["train"], sets.get("centroids")
    centroids = kmeans(train, cells, seed) if centroids is None else centroids
    train_cells = assign(train, centroids)
    train_counts = torch.bincount(train_cells, minlength=len(centroids)).cpu().numpy()
    h, g = (_side(train, train_cells, sets[s], centroids, chunk) for s in ("heldout", "generated"))
    threshold = float(np.quantile(h.distance, quantile))
    rate = float((g.distance < threshold).mean())
    ct, zu, used = data_copying_ct(h[:2], g[:2], train_counts, cell_tau)
    intervals = _bootstrap(h, g, (rate, ct), quantile, train_counts, cell_tau, resamples, seed)
    table = [
        {"cell": c, "train": int(n_t), "heldout": int((h.cell == c).sum()),
         "generated": int((g.cell == c).sum()), "heldout_share": float((h.cell == c).mean()),
         "z_u": float(zu[c]) if used[c] else None, "used": bool(used[c])}
        for c, n_t in enumerate(train_counts)
    ]  # fmt: skip
    return MemorizationReport(
        rate, intervals[0], threshold, ct, intervals[1], table, centroids.cpu(),
        *(torch.from_numpy(a) for a in (g.index, g.distance, h.distance)),
    )  # fmt: skip
