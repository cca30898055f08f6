"""From images to numbers: torch-fidelity's feature network, then torch-fidelity's metric functions.

Each input is encoded once by the extractor torch-fidelity builds
(``create_feature_extractor``), so precision/recall never trigger its second
(VGG16) pass, and every metric is computed from those features by the very
functions ``torch_fidelity.calculate_metrics`` calls (``isc_features_to_metric``,
``fid_features_to_statistics``/``fid_statistics_to_metric``,
``kid_features_to_metric``, ``prc_features_to_metric``): the numbers are
torch-fidelity's.  Holding the features is what lets the evaluator cache the
real side safely (``refcache``) and compute uncertainty from the same features.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import torch

from ..errors import GanzooError
from .cmmd import settings as cmmd_settings
from .extractors import FeatureExtractorInfo, ResolvedWeights, torch_fidelity_name
from .progress import progress
from .refcache import Reference

#: torch-fidelity settings ganzoo fixes; all are recorded in the protocol.
ISC_SPLITS = 10
KID_SUBSETS = 100
KID_DEFAULT_SUBSET = 1000
PRC_NEIGHBORHOOD = 3
#: k of density/coverage: Naeem et al. 2020's choice (k=5 at 10,000 images each).
DC_NEIGHBORHOOD = 5
RNG_SEED = 2020
BINARY = ("fid", "fid_inf", "kid", "prc", "dc", "cmmd", "mem")
#: The metrics with bootstrap replicates and intervals.
BOOTSTRAPPED = ("fid", "kid", "prc", "dc", "cmmd")


@dataclass(frozen=True)
class Settings:
    extractor: str
    info: FeatureExtractorInfo
    weights: ResolvedWeights
    metrics: tuple[str, ...]
    batch_size: int
    device: torch.device
    #: Layers encoded besides the metrics' own (the class metrics' classifier and FID layers).
    extra_layers: tuple[str, ...] = ()


def kid_subset_size(requested: int | None, num_generated: int, num_real: int) -> int:
    """KID's subset size: as asked (checked), else the largest up to 1000 both sets allow."""
    smallest = min(num_generated, num_real)
    if requested is None:
        if smallest < 2:
            raise GanzooError(f"KID needs at least 2 images per set, got {smallest}")
        return min(KID_DEFAULT_SUBSET, smallest)
    if requested < 2:
        raise GanzooError(f"--kid-subset-size must be at least 2, got {requested}")
    if requested > smallest:
        raise GanzooError(
            f"KID subset size {requested} is larger than the number of images "
            f"({num_generated} generated, {num_real} real); use more samples or a smaller subset size"
        )
    return requested


def check_sizes(metrics: tuple[str, ...], num_generated: int, num_real: int | None) -> None:
    """Refuse, in one line, image counts too small for a metric's definition."""
    if "fid_inf" in metrics and num_generated < 10:
        raise GanzooError(f"FID∞ needs at least 10 generated images, got {num_generated}")
    if "isc" in metrics and num_generated < ISC_SPLITS:
        raise GanzooError(
            f"Inception Score needs at least {ISC_SPLITS} samples, got {num_generated}"
        )
    if num_real is None:  # no reference: Scorer says what is missing
        return
    if "prc" in metrics and min(num_generated, num_real) <= PRC_NEIGHBORHOOD:
        raise GanzooError(f"precision/recall need more than {PRC_NEIGHBORHOOD} images per set")
    if "dc" in metrics and num_real <= DC_NEIGHBORHOOD:
        raise GanzooError(
            f"density/coverage with k={DC_NEIGHBORHOOD} need at least {DC_NEIGHBORHOOD + 1} real "
            f"images, got {num_real}; use more real images"
        )


def settings(metrics: tuple[str, ...], kid_subset: int | None) -> dict[str, Any]:
    """The fixed settings behind ``metrics``' numbers, as the protocol records them."""
    return {
        "isc_splits": ISC_SPLITS if "isc" in metrics else None,
        "kid_subset_size": kid_subset,
        "kid_subsets": KID_SUBSETS if "kid" in metrics else None,
        "prc_neighborhood": PRC_NEIGHBORHOOD if "prc" in metrics else None,
        "rng_seed": RNG_SEED,
        # Only when measured: every protocol without density/coverage keeps its id.
        **({"dc_neighborhood": DC_NEIGHBORHOOD} if "dc" in metrics else {}),
        **({"cmmd": cmmd_settings()} if "cmmd" in metrics else {}),
    }


class Scorer:
    """The extractor and the real features of one evaluation, built once for all its seeds."""

    def __init__(self, settings: Settings, reference: Reference | None, world: Any = None) -> None:
        from torch_fidelity.utils import create_feature_extractor

        from ..dist import World

        self.settings, self.world = settings, world or World()
        self.layers = {m: settings.info.layer(m) for m in settings.metrics}
        cuda = settings.device.type == "cuda"
        if cuda and settings.device.index is not None:
            torch.cuda.set_device(settings.device)
        self.net = create_feature_extractor(
            torch_fidelity_name(settings.extractor, settings.info),
            sorted(set(self.layers.values()) | set(settings.extra_layers)),
            cuda=cuda,
            feature_extractor_weights_path=settings.weights.path,
            verbose=False,
        )
        self.real = None
        if any(m in settings.metrics for m in BINARY):
            if reference is None:
                raise GanzooError(
                    "FID, KID, precision/recall, density/coverage and CMMD need a reference dataset "
                    "(--dataset)"
                )
            binary = tuple(sorted({self.layers[m] for m in settings.metrics if m in BINARY}))
            encode = partial(self.encode_shared, what="real features")
            self.real = reference.features(binary, encode)

    @torch.no_grad()
    def encode(self, images: torch.Tensor, what: str = "features") -> dict[str, torch.Tensor]:
        """Features of uint8 N x C x H x W images (gray repeated to 3 channels), in order, on the CPU."""
        out: dict[str, list[torch.Tensor]] = {}
        device, step = self.settings.device, self.settings.batch_size
        with progress(images.shape[0], what) as advance:
            for start in range(0, images.shape[0], step):
                batch = images[start : start + step]
                batch = batch.expand(-1, 3, -1, -1) if batch.shape[1] == 1 else batch
                features = self.net(batch.contiguous().to(device))
                for name, value in self.net.convert_features_tuple_to_dict(features).items():
                    out.setdefault(name, []).append(value.cpu())
                advance(batch.shape[0])
        return {name: torch.cat(parts) for name, parts in out.items()}

    def encode_split(
        self, images: torch.Tensor, index: torch.Tensor, total: int, what: str = "features"
    ) -> dict[str, torch.Tensor]:
        """Features of all ``total`` images on every rank, each rank encoding the ones it holds
        (``images[k]`` is image ``index[k]``), in image order: a single process's result."""
        local = self.encode(images, what)
        return self.world.gather_rows(local, index, total) if self.world.distributed else local

    def encode_shared(
        self, images: torch.Tensor, what: str = "features"
    ) -> dict[str, torch.Tensor]:
        """Features of ``images`` (held by every rank), image i encoded by rank i mod size."""
        if not self.world.distributed:
            return self.encode(images, what)
        index = torch.arange(self.world.rank, images.shape[0], self.world.size)
        return self.encode_split(images[index], index, images.shape[0], what)

    def score(
        self,
        generated: torch.Tensor,
        kid_subset: int | None,
        intervals: bool = False,
        features: dict[str, torch.Tensor] | None = None,
    ) -> tuple[dict[str, float], Any]:
        """The metrics of uint8 ``generated`` against the real features and, if asked, their
        bootstrap (``replicates.Bootstrap``: replicates and intervals; else None), both from
        the same features (``features``: already encoded)."""
        from .uncertainty import bootstrap

        features = self.encode(generated) if features is None else features
        metrics = self.settings.metrics
        numbers = compute(metrics, self.layers, features, self.real, kid_subset)
        if not intervals or self.real is None or not set(metrics) & set(BOOTSTRAPPED):
            return numbers, None
        drawn = bootstrap(
            metrics, self.layers, features, self.real, kid_subset, PRC_NEIGHBORHOOD, numbers,
            device=self.settings.device, dc_k=DC_NEIGHBORHOOD,
        )  # fmt: skip
        return numbers, drawn


def compute(
    metrics: tuple[str, ...],
    layers: dict[str, str],
    generated: dict[str, torch.Tensor],
    real: dict[str, torch.Tensor] | None,
    kid_subset: int | None,
) -> dict[str, float]:
    """The requested metrics from features, by torch-fidelity's own functions and settings."""
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
    from torch_fidelity.metric_isc import isc_features_to_metric
    from torch_fidelity.metric_kid import kid_features_to_metric
    from torch_fidelity.metric_prc import prc_features_to_metric

    out: dict[str, Any] = {}
    if "isc" in metrics:
        out.update(isc_features_to_metric(generated[layers["isc"]], ISC_SPLITS, True, RNG_SEED))
    if "fid" in metrics:
        stats = [fid_features_to_statistics(f[layers["fid"]]) for f in (generated, real)]
        out.update(fid_statistics_to_metric(*stats, verbose=False))
    if "kid" in metrics:
        options = dict(kid_subsets=KID_SUBSETS, kid_subset_size=kid_subset, rng_seed=RNG_SEED)
        kid_layer = layers["kid"]
        gen_kid, real_kid = generated[kid_layer], real[kid_layer]
        out.update(kid_features_to_metric(gen_kid, real_kid, verbose=False, **options))
        if (kid_subset or KID_DEFAULT_SUBSET) >= max(len(gen_kid), len(real_kid)):
            # Every "subset" is both whole sets: the std over them is rounding, not spread.
            out.pop("kernel_inception_distance_std", None)
    if "prc" in metrics:
        prc_layer = layers["prc"]
        out.update(
            prc_features_to_metric(
                generated[prc_layer],
                real[prc_layer],
                prc_neighborhood=PRC_NEIGHBORHOOD,
                save_cpu_ram=True,
                verbose=False,
            )  # fmt: skip
        )
    if "dc" in metrics:
        from .density import density_coverage

        layer = layers["dc"]
        out.update(density_coverage(real[layer], generated[layer], DC_NEIGHBORHOOD))
    if "cmmd" in metrics:
        from .cmmd import cmmd

        out["cmmd"] = cmmd(real[layers["cmmd"]], generated[layers["cmmd"]])
    if "fid_inf" in metrics:
        from .uncertainty import fid_infinity

        layer = layers["fid_inf"]
        out["fid_infinity"] = fid_infinity(generated[layer], real[layer])["value"]
    return {key: float(value) for key, value in out.items()}
