"""Score the shipped pretrained models again under their cards' protocols, weights untouched.

When the evaluator changes how a number is produced (a new protocol field, an
extractor revision), the cards must quote what the shipped weights give now.
Each result in a folder's eval.json is recomputed with
``EvalRequest.from_protocol`` on the shipped weights (as ``ganzoo export``
scores lower-precision weights), and eval.json and the card (README.md) are
rewritten; model.safetensors and config.json are not touched, so the sha256
held in plugins/ganzoo_pretrained/shipped.py stays valid.

    python scripts/rescore_pretrained.py [NAME ...]
    python scripts/rescore_pretrained.py --from leaderboards [NAME ...]

With ``--from DIR`` nothing is scored: eval.json becomes the results that
``ganzoo eval leaderboard NAME --out DIR`` scored for these very weights (kept in
its stand-in run, DIR/pretrained/<name>-<sha12>/eval/), with their intervals,
bootstrap replicates and sampling time, so the card, ``ganzoo models
--pretrained`` and a zoo's reference rows quote the committed boards' numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ganzoo.files.write import atomic_write_text
from ganzoo.leaderboard.results import run_results
from ganzoo.load.folder import CARD, CONFIG, GRID, RESULTS
from ganzoo.load.pretrained import load_pretrained
from ganzoo.pretrained.asrun import as_run
from ganzoo.pretrained.card import render
from ganzoo.pretrained.export import _rescore, for_card

MODELS = Path(__file__).resolve().parents[1] / "plugins" / "ganzoo_pretrained" / "models"


def scored(folder: Path) -> list[dict]:
    model = load_pretrained(folder).model
    return [_rescore(model, r) for r in json.loads((folder / RESULTS).read_text())]


def from_board(folder: Path, board_dir: Path) -> list[dict]:
    """The stand-in's results for the shipped checkpoint (its sha256 names the stand-in)."""
    config = json.loads((folder / CONFIG).read_text())
    stand_in = as_run(folder.name, board_dir)
    found = [
        for_card(result)
        for _, result in run_results(stand_in)
        if result["protocol"]["checkpoint"].get("step") == config["step"]
    ]
    if not found:
        raise SystemExit(f"{stand_in} holds no results; run ganzoo eval leaderboard first")
    # In the card's order of extractors (its headline result first), then by NFE.
    order = [r["protocol"]["extractor"]["name"] for r in json.loads((folder / RESULTS).read_text())]

    def place(result: dict) -> tuple[int, int]:
        name = result["protocol"]["extractor"]["name"]
        nfe = (result["protocol"]["generated"].get("sampling") or {}).get("nfe") or 1
        return (order.index(name) if name in order else len(order), nfe)

    return sorted(found, key=place)


def rescore(folder: Path, board_dir: Path | None = None) -> None:
    results = from_board(folder, board_dir) if board_dir else scored(folder)
    config = json.loads((folder / CONFIG).read_text())
    atomic_write_text(folder / RESULTS, json.dumps(results, indent=2, sort_keys=True) + "\n")
    atomic_write_text(folder / CARD, render(config, results, (folder / GRID).is_file()))
    for r in results:
        fid = r["metrics"].get("frechet_inception_distance")
        print(
            f"{folder.name}: {r['protocol']['extractor']['name']} {r['protocol_id']} FID {fid:.4f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="shipped models (default: all)")
    parser.add_argument("--from", dest="board_dir", type=Path, help="copy a board's results")
    args = parser.parse_args()
    everything = sorted(p.name for p in MODELS.iterdir() if (p / RESULTS).is_file())
    for name in args.names or everything:
        rescore(MODELS / name, args.board_dir)


if __name__ == "__main__":
    main()
