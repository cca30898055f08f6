"""Score the shipped pretrained models again under their cards' protocols, weights untouched.

When the evaluator changes how a number is produced (a new protocol field, an
extractor revision), the cards must quote what the shipped weights give now.
Each result in a folder's eval.json is recomputed with
``EvalRequest.from_protocol`` on the shipped weights (as ``ganzoo export``
scores lower-precision weights), and eval.json and the card (README.md) are
rewritten; model.safetensors and config.json are not touched, so the sha256
held in plugins/ganzoo_pretrained/shipped.py stays valid.

    python scripts/rescore_pretrained.py [NAME ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ganzoo.files.write import atomic_write_text
from ganzoo.load.folder import CARD, CONFIG, GRID, RESULTS
from ganzoo.load.pretrained import load_pretrained
from ganzoo.pretrained.card import render
from ganzoo.pretrained.export import _rescore

MODELS = Path(__file__).resolve().parents[1] / "plugins" / "ganzoo_pretrained" / "models"


def rescore(folder: Path) -> None:
    model = load_pretrained(folder).model
    results = [_rescore(model, r) for r in json.loads((folder / RESULTS).read_text())]
    config = json.loads((folder / CONFIG).read_text())
    atomic_write_text(folder / RESULTS, json.dumps(results, indent=2, sort_keys=True) + "\n")
    atomic_write_text(folder / CARD, render(config, results, (folder / GRID).is_file()))
    for r in results:
        fid = r["metrics"].get("frechet_inception_distance")
        print(
            f"{folder.name}: {r['protocol']['extractor']['name']} {r['protocol_id']} FID {fid:.4f}"
        )


def main() -> None:
    names = sys.argv[1:] or sorted(p.name for p in MODELS.iterdir() if (p / RESULTS).is_file())
    for name in names:
        rescore(MODELS / name)


if __name__ == "__main__":
    main()
