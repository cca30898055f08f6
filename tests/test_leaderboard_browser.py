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


#: Appended to a test-only copy of a page: measures it at load, opens the legend, shows every
#: column and clicks a sample grid, then writes what it saw into the DOM for --dump-dom.
MEASURE = """<script>
window.addEventListener('load', function(){
  var s = document.scrollingElement, out = {};
  out.scroll = s.scrollWidth; out.client = s.clientWidth; out.window = window.innerWidth;
  out.sticky = getComputedStyle(document.querySelector('table.board th')).position;
  var extra = document.querySelector('table.board th.extra');
  out.extra_before = getComputedStyle(extra).display;
  document.querySelector('label[for=all-columns]').click();
  out.extra_after = getComputedStyle(extra).display;
  var legend = document.querySelector('details.legend');
  out.legend_before = legend.open;
  legend.querySelector('summary').click();
  out.legend_after = legend.open;
  out.legend_height = legend.getBoundingClientRect().height;
  var thumb = document.querySelector('tbody img.zoom'), box = document.getElementById('lightbox');
  out.box_before = box.hidden; out.thumb = thumb.getBoundingClientRect().width;
  thumb.click();
  var big = box.querySelector('img');
  out.box_after = box.hidden; out.big = big.getBoundingClientRect().width;
  out.same_image = big.src === thumb.src;
  var pre = document.createElement('pre'); pre.id = 'measured';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""


def _measure(tmp_path: Path, html: str) -> dict:
    """What MEASURE saw in ``html`` at a 1400x900 window."""
    copy = tmp_path / "measured.html"
    copy.write_text(html.replace("</body>", MEASURE + "</body>"))
    done = _chromium(tmp_path, "--window-size=1400,900", "--virtual-time-budget=5000",
                     "--dump-dom", copy.as_uri())  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="measured">(.*?)</pre>', done.stdout)
    assert found, done.stdout[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"'))


def _check_glance(seen: dict) -> None:
    assert seen["window"] == 1400
    assert seen["scroll"] <= seen["client"]  # the document never scrolls sideways
    assert seen["sticky"] == "sticky"
    assert (seen["extra_before"], seen["extra_after"]) == ("none", "table-cell")
    assert (seen["legend_before"], seen["legend_after"]) == (False, True)
    assert seen["legend_height"] > 100  # its paragraphs show
    assert (seen["box_before"], seen["box_after"]) == (True, False) and seen["same_image"]
    assert seen["big"] > 5 * seen["thumb"]


@pytest.mark.slow
def test_the_page_reads_at_a_glance_at_1400_px(page, tmp_path):
    """No sideways scroll, a header that stays, the legend opens, folded columns show on the
    toggle, a sample grid enlarges on a click; the run's script stays text throughout."""
    html = page.read_text()
    seen = _measure(tmp_path, html)
    _check_glance(seen)
    assert html.count("<script>") == 1 and "&lt;script&gt;document.title" in html
    forest = html[html.index('<svg class="forest"') : html.index("</svg>")]
    assert "&lt;script&gt;" in forest and "<script" not in forest  # its label, escaped
    names = re.findall(r'text-anchor="end">(.*?)</text>', forest)
    assert [n.split(" ", 1)[1] for n in names] == ["dcgan", EVIL.replace("<", "&lt;").replace(
        ">", "&gt;").replace("'", "&#x27;"), "gan"]  # fmt: skip


@pytest.mark.slow
def test_the_committed_board_fits_1400_px(tmp_path):
    """The committed lenet board, rendered by this code: its main columns fit the window."""
    from ganzoo.leaderboard.page import render
    from ganzoo.leaderboard.store import read_board

    folder = Path(__file__).resolve().parents[1] / "leaderboards"
    board = read_board(folder / "mnist5k-lenet-mnist.json")
    _check_glance(_measure(tmp_path, render(board, folder)))
