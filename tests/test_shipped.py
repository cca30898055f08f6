"""The models shipped in the package: listed, loadable offline, scoring what their cards say.

Each card's lenet-mnist numbers were measured on the stored weights
(scripts/ship_pretrained.py); scoring the model again under the card's own
protocol must give them back.  The sha256 that protects each weights file is
held in the plugin's code, so a changed file is refused even when its folder's
config.json was changed to match.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from ganzoo_pretrained import MODELS
from ganzoo_pretrained.shipped import SHIPPED

import ganzoo
from ganzoo.cli import cli

FID = "frechet_inception_distance"
#: Every model the first-party plugins register ships, trained.
FIRST_PARTY = ("gan", "dcgan", "dcgan-cond", "wgan-gp", "vae", "transformer", "ddpm")


def card_results(name: str) -> list[dict]:
    return json.loads((MODELS / name / "eval.json").read_text())


def test_every_first_party_model_ships_and_the_total_is_small():
    assert set(SHIPPED) == {f"{m}-mnist5k" for m in FIRST_PARTY}
    total = sum(p.stat().st_size for p in MODELS.rglob("*") if p.is_file())
    assert total < 10e6
    listed = json.loads(CliRunner().invoke(cli, ["models", "--pretrained", "--json"]).stdout)
    rows = {row["name"]: row for row in listed}
    for name in SHIPPED:
        assert rows[name]["plugin"] == "pretrained" and rows[name]["size_bytes"] > 0
        assert any(r["extractor"] == "lenet-mnist" for r in rows[name]["results"])


def nfe(result: dict) -> int:
    return ((result["protocol"]["generated"].get("sampling") or {}).get("nfe")) or 1


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_model_scores_what_its_card_says(name):
    lenet = [r for r in card_results(name) if r["protocol"]["extractor"]["name"] == "lenet-mnist"]
    card = min(
        lenet, key=nfe
    )  # ddpm's card also has its 250-step score; the 50-step one is cheaper
    again = ganzoo.evaluate(name, ganzoo.EvalRequest.from_protocol(card["protocol"]))
    assert again.metrics[FID] == pytest.approx(card["metrics"][FID], rel=1e-4)
    head = (MODELS / name / "README.md").read_text().split("---")[1]
    assert f"value: {card['metrics'][FID]:.6g}" in head


def test_sample_works_offline_by_name(tmp_path):
    grid = tmp_path / "grid.png"
    result = CliRunner().invoke(cli, ["sample", "dcgan-mnist5k", "--n", "16", "--out", str(grid)])
    assert result.exit_code == 0, result.output
    assert grid.stat().st_size > 0


def test_a_changed_weights_file_is_refused_even_with_a_matching_config(tmp_path):
    copy = tmp_path / "dcgan-copy"
    shutil.copytree(MODELS / "dcgan-mnist5k", copy)
    data = bytearray((copy / "model.safetensors").read_bytes())
    data[-1] ^= 0x01
    (copy / "model.safetensors").write_bytes(bytes(data))
    config = json.loads((copy / "config.json").read_text())
    import hashlib

    config["weights_sha256"] = hashlib.sha256(bytes(data)).hexdigest()  # the folder agrees ...
    (copy / "config.json").write_text(json.dumps(config))

    class Zoo:
        @ganzoo.hookimpl
        def register_pretrained(self, register):  # ... the hash held in code does not
            register("dcgan-copy", Path(copy), sha256=SHIPPED["dcgan-mnist5k"][0])

    ganzoo.register_plugin(Zoo(), "copy-zoo")
    try:
        with pytest.raises(ganzoo.GanzooError, match="changed or damaged"):
            ganzoo.from_pretrained("dcgan-copy")
    finally:
        ganzoo.unregister_plugin("copy-zoo")


def test_the_pretrained_listing_says_how_each_number_was_sampled_and_marks_collapse():
    """ddpm's two lenet-mnist lines differ by their sampler settings, and say so; gan-mnist5k
    (recall 0, IS 1) is marked as collapsed, the models that cover the data are not."""
    shown = CliRunner().invoke(cli, ["models", "--pretrained"])
    assert shown.exit_code == 0, shown.output
    ddpm = shown.output.split("ddpm-mnist5k", 1)[1].split("\ngan-mnist5k", 1)[0]
    assert "sample_steps 250, NFE 250): FID" in ddpm and "sample_steps 50, NFE 50): FID" in ddpm
    rows = json.loads(CliRunner().invoke(cli, ["models", "--pretrained", "--json"]).output)
    marked = {row["name"] for row in rows for r in row["results"] if r["collapsed"]}
    assert marked == {"gan-mnist5k"}
    assert "COLLAPSED (recall 0.000" in shown.output.split("gan-mnist5k", 1)[1]


def test_every_shipped_model_stands_on_a_board_with_its_training_time(tmp_path):
    """The cost figure's training-time panel places shipped models (their stand-in's progress)."""
    from ganzoo.pretrained.asrun import as_run

    for name in SHIPPED:
        training = json.loads((MODELS / name / "config.json").read_text())["training"]
        assert training["elapsed_s"] > 0 and training["device"] == "cpu"
        stand_in = as_run(name, tmp_path)
        step = json.loads((stand_in / "run.json").read_text())["pretrained"]["step"]
        entry = json.loads((stand_in / "progress.json").read_text())["checkpoints"][str(step)]
        assert entry == {"elapsed_s": training["elapsed_s"], "device": "cpu"}


@pytest.mark.slow
def test_a_folder_without_the_weights_a_likelihood_needs_reports_no_bits_per_dim():
    """A folder stores the sampling modules; the VAE's bound also needs its encoder, which a
    load would leave untrained (a different bits/dim on every load), so none is reported."""
    request = ganzoo.EvalRequest(metrics=("fid",), num_samples=20)
    assert ganzoo.evaluate("vae-mnist5k", request, write=False).bits_per_dim is None
    twice = [ganzoo.evaluate("transformer-mnist5k", request, write=False) for _ in range(2)]
    assert twice[0].bits_per_dim is not None  # the Transformer's whole network is stored
    assert twice[0].bits_per_dim == twice[1].bits_per_dim
