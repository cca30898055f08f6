"""Export the reference runs' final checkpoints into the ganzoo_pretrained plugin.

For each run below RUNS (one per model, as `ganzoo zoo` lays them out), both a
float32 and a float16 folder are exported; float16 ships when its lenet-mnist
FID is within 1% of float32's (both measured under the run's stored protocol),
float32 otherwise.  The chosen folder becomes
plugins/ganzoo_pretrained/models/<model>-<dataset>/ and the sha256 of its
weights is written to plugins/ganzoo_pretrained/shipped.py, where the plugin
reads it: the hash that protects a shipped model is held in code.

    python scripts/ship_pretrained.py /work/refruns/zoo-x4
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import shutil
import tempfile
from pathlib import Path

import ganzoo

PLUGIN = Path(__file__).resolve().parents[1] / "plugins" / "ganzoo_pretrained"
FID = "frechet_inception_distance"
TOLERANCE = 0.01


def lenet_fid(folder: Path) -> float:
    results = json.loads((folder / "eval.json").read_text())
    return next(
        r["metrics"][FID] for r in results if r["protocol"]["extractor"]["name"] == "lenet-mnist"
    )


def ship(run: Path, workdir: Path) -> tuple[str, str, str]:
    info = json.loads((run / "run.json").read_text())
    name = f"{info['model']}-{info['dataset']}"
    full = ganzoo.export_run(run, workdir / f"{name}-32", name=name, license="cc-by-sa-3.0")
    half = ganzoo.export_run(
        run, workdir / f"{name}-16", name=name, license="cc-by-sa-3.0", dtype="float16"
    )
    change = abs(lenet_fid(half) - lenet_fid(full)) / lenet_fid(full)
    chosen = half if change <= TOLERANCE else full
    print(
        f"{name}: lenet FID {lenet_fid(full):.4f} (float32), {lenet_fid(half):.4f} (float16, "
        f"{100 * change:.2f}% apart) -> ships {json.loads((chosen / 'config.json').read_text())['dtype']}, "
        f"{(chosen / 'model.safetensors').stat().st_size / 1e6:.2f} MB"
    )
    target = PLUGIN / "models" / name
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(chosen, target)
    sha = hashlib.sha256((target / "model.safetensors").read_bytes()).hexdigest()
    description = ganzoo.model_class(info["model"]).description
    return name, sha, description


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="the reference runs, one folder per model")
    parser.add_argument(
        "--models", help="comma-separated: only these (the others keep their entry)"
    )
    args = parser.parse_args()
    runs = sorted(p.parent for p in args.runs.glob("*/run.json"))
    if args.models:
        runs = [run for run in runs if run.name in args.models.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        fresh = {name: (sha, text) for name, sha, text in (ship(run, Path(tmp)) for run in runs)}
    # Read the other entries only now: another copy of this script may have shipped meanwhile.
    import ganzoo_pretrained.shipped as written

    SHIPPED = importlib.reload(written).SHIPPED
    shipped = [(name, *entry) for name, entry in sorted({**SHIPPED, **fresh}.items())]
    lines = [
        '"""Written by scripts/ship_pretrained.py: name -> (sha256 of model.safetensors, description)."""',
        "",
        "SHIPPED: dict[str, tuple[str, str]] = {",
        *[
            f"    {json.dumps(name)}: (\n        {json.dumps(sha)},\n        {json.dumps(text)},\n    ),"
            for name, sha, text in shipped
        ],
        "}",
        "",
    ]
    (PLUGIN / "shipped.py").write_text("\n".join(lines))
    total = sum(p.stat().st_size for p in (PLUGIN / "models").rglob("*") if p.is_file())
    print(f"shipped {len(shipped)} models, {total / 1e6:.2f} MB in all")


if __name__ == "__main__":
    main()
