"""The leaderboard page in headless Chromium: it renders, sorts on header clicks, escapes, and paints."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganzoo import leaderboard as lb

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
)

PROTOCOL = {
    "version": 1,
    "reference": {"dataset": "mnist5k", "split": "test", "num_images": 500, "subset_seed": None},
    "generated": {"source": "run", "num_images": 100, "seeds": [0], "sample_chunk": 250},
    "metrics": ["isc", "fid"],
    "extractor": {"name": "lenet-mnist", "weights_sha256": "ab" * 32, "resize": "none"},
    "settings": {},
    "checkpoint": {"step": 100, "ema": False},
}
EVIL = "<script>document.title='pwned'</script>"
#: model -> (FID, IS): FID order and IS order differ, so each sort is visible.
MODELS = {"dcgan": (12.0, 2.0), "gan": (30.0, 3.0), EVIL: (20.0, 1.0)}


def _make_run(root: Path, name: str, model: str, fid: float, isc: float, shade: int) -> Path:
    run = root / name
    (run / "eval").mkdir(parents=True)
    (run / "samples").mkdir()
    info = {
        "model": model,
        "family": "gan",
        "plugin": "gan",
        "dataset": "mnist5k",
        "parameters": 10,
    }
    (run / "run.json").write_text(json.dumps(info))
    grid = np.zeros((64, 64), dtype=np.uint8)
    grid[8:56, 8:56] = shade
    Image.fromarray(grid).save(run / "samples" / "step-00000100.png")
    result = {
        "metrics": {"frechet_inception_distance": fid, "inception_score_mean": isc},
        "metrics_std_over_seeds": {},
        "bits_per_dim": None,
        "protocol": PROTOCOL,
    }
    (run / "eval" / "result.json").write_text(json.dumps(result))
    return run


class _Rows(HTMLParser):
    """Cells of the leaderboard table (as ``data-value`` or text) and image counts per row."""

    def __init__(self) -> None:
        super().__init__()
        self.heads: list[tuple[str, str | None]] = []
        self.rows: list[list[str]] = []
        self.images: list[int] = []
        self._cell: list[str] | None = None
        self._in_body = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "th":
            self.heads.append((attrs.get("data-key"), attrs.get("aria-sort")))
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append([])
            self.images.append(0)
        elif tag == "td" and self._in_body:
            self._cell = [attrs.get("data-value") or ""]
        elif tag == "img" and self._in_body and attrs.get("src", "").startswith("data:image/png"):
            self.images[-1] += 1

    def handle_data(self, data):
        if self._cell is not None and not self._cell[0]:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            value = self._cell[0] or "".join(self._cell[1:]).strip()
            self.rows[-1].append(value)
            self._cell = None
        elif tag == "tbody":
            self._in_body = False


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    runs = [
        _make_run(root, f"run{i}", model, fid, isc, shade=60 + 60 * i)
        for i, (model, (fid, isc)) in enumerate(MODELS.items())
    ]
    lb.update(root / "lb", "mnist5k", "lenet-mnist", runs)
    return root / "lb" / "mnist5k-lenet-mnist.html"


def _dom(tmp_path: Path, page: Path, fragment: str = "") -> _Rows:
    done = _chromium(tmp_path, "--dump-dom", page.as_uri() + fragment)
    assert done.returncode == 0, done.stderr[-2000:]
    # The run's "<script>" stayed text: had it run, the title would read "pwned".
    assert "<title>ganzoo leaderboard: mnist5k, lenet-mnist</title>" in done.stdout
    parsed = _Rows()
    parsed.feed(done.stdout)
    return parsed


@pytest.mark.slow
def test_page_renders_sorts_on_header_clicks_and_paints(page, tmp_path):
    keys = [k for k, _ in _dom(tmp_path, page).heads]
    fid_col, is_col, model_col = keys.index("fid"), keys.index("is"), keys.index("model")

    loaded = _dom(tmp_path, page)
    assert len(loaded.rows) == 3 and loaded.images == [1, 1, 1]
    assert [float(r[fid_col]) for r in loaded.rows] == [12.0, 20.0, 30.0]  # ranked by FID
    assert [r[model_col] for r in loaded.rows] == ["dcgan", EVIL, "gan"]  # text, not markup

    # #sort=KEY clicks that header once (ascending), twice (descending).
    by_is = _dom(tmp_path, page, "#sort=is")
    assert [float(r[is_col]) for r in by_is.rows] == [1.0, 2.0, 3.0]
    assert ("is", "ascending") in by_is.heads
    by_fid_desc = _dom(tmp_path, page, "#sort=fid,fid")
    assert [float(r[fid_col]) for r in by_fid_desc.rows] == [30.0, 20.0, 12.0]
    assert ("fid", "descending") in by_fid_desc.heads
    by_model = _dom(tmp_path, page, "#sort=model")
    assert [r[model_col] for r in by_model.rows] == sorted([EVIL, "dcgan", "gan"], key=str.lower)

    shot = tmp_path / "page.png"
    done = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,800", page.as_uri())
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert image.shape == (800, 1200)
    assert image.std() > 10  # text, table borders and sample grids, not a blank page
    dark = (image < 80).mean()
    assert 0.002 < dark < 0.5
    assert re.search(rb"\x89PNG", shot.read_bytes()[:8])
