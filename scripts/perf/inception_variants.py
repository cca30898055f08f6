"""Images/s of InceptionV3 variants on mnist5k images: the table in docs/performance.md.

Usage: python scripts/perf/inception_variants.py VARIANT BATCH N [--profile]

VARIANT joins parts with "-": plain (torch-fidelity's network as it is), fold (batch norm
folded), cl (channels-last), inf (inference_mode; else no_grad), jit (trace + freeze), opt
(optimize_for_inference, with jit), compile (torch.compile), mallopt (glibc mmap/trim
thresholds 1 GB for this process).  Prints images/s, user and system CPU seconds and minor
page faults of the timed loop (after one warm-up batch), the network's GFLOP per image and
the machine's float32 matmul speed; --profile prints torch.profiler's table instead.
"""

from __future__ import annotations

import ctypes
import resource
import sys
import time

import torch
from ganzoo_extractors.inception import resolve_weights
from ganzoo_extractors.inception_fast import fold_batch_norms
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

import ganzoo


def build(variant: str, example: torch.Tensor) -> torch.nn.Module:
    if "mallopt" in variant:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    net = FeatureExtractorInceptionV3(
        "x", ["2048"], feature_extractor_weights_path=resolve_weights().path
    )
    if "fold" in variant:
        fold_batch_norms(net)
    if "cl" in variant:
        net = net.to(memory_format=torch.channels_last)
    if "jit" in variant:
        with torch.no_grad():
            traced = torch.jit.freeze(torch.jit.trace(net, example, check_trace=False).eval())
        return torch.jit.optimize_for_inference(traced) if "opt" in variant else traced
    return torch.compile(net) if "compile" in variant else net


def gflop_per_image(net: torch.nn.Module) -> float:
    macs = []

    def count(module, inputs, output):
        per_out = (
            module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        )
        macs.append(output[0].numel() * per_out)

    hooks = [
        m.register_forward_hook(count) for m in net.modules() if isinstance(m, torch.nn.Conv2d)
    ]
    with torch.no_grad():
        net(torch.zeros(1, 3, 28, 28, dtype=torch.uint8))
    for hook in hooks:
        hook.remove()
    return 2 * sum(macs) / 1e9


def matmul_gflops() -> float:
    a = torch.randn(2048, 2048)
    a @ a
    start = time.perf_counter()
    for _ in range(10):
        a @ a
    return 10 * 2 * 2048**3 / (time.perf_counter() - start) / 1e9


def main() -> None:
    variant, batch, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = ganzoo.load_dataset("mnist5k", "all").images[:n].expand(-1, 3, -1, -1).contiguous()
    net = build(variant, data[:batch])
    context = torch.inference_mode if "inf" in variant else torch.no_grad
    with context():
        net(data[:batch])  # warm-up (and compilation)
        if "--profile" in sys.argv:
            with torch.profiler.profile() as prof:
                for start in range(0, n, batch):
                    net(data[start : start + batch])
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
            return
        before, start_time = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for start in range(0, n, batch):
            net(data[start : start + batch])
        seconds, after = time.perf_counter() - start_time, resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{variant} batch {batch}: {n / seconds:.2f} images/s, user {after.ru_utime - before.ru_utime:.1f} s, "
        f"system {after.ru_stime - before.ru_stime:.1f} s, minor faults {after.ru_minflt - before.ru_minflt}"
    )
    plain = FeatureExtractorInceptionV3(
        "x", ["2048"], feature_extractor_weights_path=resolve_weights().path
    )
    print(
        f"{gflop_per_image(plain):.2f} GFLOP per image; float32 matmul {matmul_gflops():.0f} GFLOP/s"
    )


if __name__ == "__main__":
    main()
