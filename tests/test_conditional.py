"""Class-conditional generation: the sampling contract, the three conditional variants, the CLI.

A model declares itself conditional (``Model.conditional``); ``draw_samples``
then gives it labels (balanced when the caller chooses none) and refuses
labels it cannot draw, and ``Batch.y`` reaches its losses.  ``dcgan``,
``ddpm`` and ``transformer`` each switch it on with a ``conditional`` field;
``dcgan-cond`` is ``dcgan`` with the field on, so the zoo trains it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganzoo
import ganzoo.testing
from ganzoo.cli import cli

SPEC = ganzoo.DatasetSpec(1, 28, 28, 10)
SMALL_DCGAN = {"width": 8, "latent_dim": 8}
SMALL_TRANSFORMER = {"d_model": 16, "n_layers": 1, "n_heads": 2, "conditional": True}


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def build(name, **config):
    torch.manual_seed(0)
    return ganzoo.build_model(name, SPEC, config)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cond") / "run"
    sets = [f"--set={k}={v}" for k, v in SMALL_DCGAN.items()]
    result = invoke("train", "--model", "dcgan-cond", *sets, "--steps", "2", "-q", "--out", out)
    assert result.exit_code == 0, result.output
    return out


def test_draw_samples_gives_a_conditional_model_balanced_labels_unless_told():
    model = build("dcgan-cond", **SMALL_DCGAN)
    seen = []
    original = model.sample
    model.sample = lambda n, generator=None, labels=None: (
        seen.append(labels) or original(n, generator, labels)
    )
    ganzoo.draw_samples(model, 12)
    ganzoo.draw_samples(model, 3, labels=torch.tensor([7, 7, 2]))
    assert seen[0].tolist() == [i % 10 for i in range(12)]
    assert seen[1].tolist() == [7, 7, 2]


@pytest.mark.parametrize(
    "labels, message",
    [
        (torch.tensor([0, 1]), "3 integer class labels"),
        (torch.tensor([0.0, 1.0, 2.0]), "3 integer class labels"),
        (torch.tensor([0, 10, -1]), r"draws classes 0 to 9, not \[-1, 10\]"),
    ],
)
def test_labels_a_model_cannot_draw_are_refused(labels, message):
    with pytest.raises(ganzoo.GanzooError, match=message):
        ganzoo.draw_samples(build("dcgan-cond", **SMALL_DCGAN), 3, labels=labels)


def test_an_unconditional_model_refuses_labels():
    with pytest.raises(ganzoo.GanzooError, match="is not class-conditional"):
        ganzoo.draw_samples(build("dcgan", **SMALL_DCGAN), 2, labels=torch.tensor([1, 2]))


def test_the_label_decides_the_class_the_model_draws():
    model = build("dcgan-cond", **SMALL_DCGAN)
    same_noise = [torch.Generator().manual_seed(3) for _ in range(2)]
    threes = ganzoo.draw_samples(model, 4, same_noise[0], labels=torch.full((4,), 3))
    sevens = ganzoo.draw_samples(model, 4, same_noise[1], labels=torch.full((4,), 7))
    assert not torch.equal(threes, sevens)


@pytest.mark.parametrize(
    "name, config",
    [("dcgan-cond", SMALL_DCGAN), ("transformer", SMALL_TRANSFORMER)],
)
def test_the_conditional_variants_conform(name, config):
    ganzoo.testing.check_model(name, config=config)


def test_dcgan_cond_is_dcgan_with_its_conditional_field_on():
    cond, switched, plain = (
        build("dcgan-cond", **SMALL_DCGAN),
        build("dcgan", conditional=True, **SMALL_DCGAN),
        build("dcgan", **SMALL_DCGAN),
    )
    assert cond.conditional and switched.conditional and not plain.conditional
    assert {k: v.shape for k, v in cond.state_dict().items()} == {
        k: v.shape for k, v in switched.state_dict().items()
    }
    assert "D.embed.weight" in cond.state_dict()  # the projection
    assert any(k.endswith("scale.weight") for k in cond.state_dict())  # conditional batch norm
    assert "D.embed.weight" not in plain.state_dict()


def test_the_projection_discriminator_judges_image_and_label_together():
    model = build("dcgan-cond", **SMALL_DCGAN).eval()
    x = ganzoo.load_dataset("mnist5k", "test").to_float(
        ganzoo.load_dataset("mnist5k", "test").images[:4]
    )
    with torch.no_grad():
        as_three = model.D(x, torch.full((4,), 3))
        as_seven = model.D(x, torch.full((4,), 7))
    assert not torch.allclose(as_three, as_seven)


def test_the_transformer_starts_its_sequence_with_the_class_token():
    model = build("transformer", **SMALL_TRANSFORMER).eval()
    assert model.net.tok_emb.num_embeddings == model.tokenizer.vocab_size + 10
    tokens = torch.zeros(2, model.tokenizer.num_tokens, dtype=torch.long)
    with torch.no_grad():
        three = model.logits(tokens, torch.tensor([3, 3]))
        seven = model.logits(tokens, torch.tensor([7, 7]))
    assert not torch.allclose(three[:, 0], seven[:, 0])  # the first prediction reads the class
    plain = build("transformer", **{**SMALL_TRANSFORMER, "conditional": False})
    assert plain.net.tok_emb.num_embeddings == plain.tokenizer.vocab_size + 1


def test_a_conditional_transformers_bits_per_dim_is_the_marginal_over_classes():
    model = build("transformer", **SMALL_TRANSFORMER).eval()
    data = ganzoo.load_dataset("mnist5k", "test")
    batch = ganzoo.Batch(data.to_float(data.images[:3]))
    dims_log2 = model.spec.dims * math.log(2)
    with torch.no_grad():
        marginal = model.bits_per_dim(batch)
        per_class = torch.stack(
            [model._nll(batch, torch.full((3,), c))[0] / dims_log2 for c in range(10)]
        )
    # -log mean_y p(x|y) lies between the best class's code length and that plus log2(10).
    best = per_class.min(0).values
    assert torch.all(marginal >= best - 1e-6)
    assert torch.all(marginal <= best + math.log2(10) / model.spec.dims + 1e-6)


def test_a_conditional_model_on_data_without_labels_is_one_clear_error(tmp_path):
    for i in range(12):
        Image.fromarray(np.full((28, 28), 20 * i, np.uint8)).save(tmp_path / f"{i}.png")
    result = invoke(
        "train", "--model", "dcgan-cond", "--dataset", f"folder:{tmp_path}", "--steps", "1",
        "--out", tmp_path / "run",
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: model 'dcgan-cond' is class-conditional but the dataset has no labels "
        "(DatasetSpec.num_classes is unset); use a labelled dataset or train it unconditionally"
    ]
    assert not (tmp_path / "run").exists()


def test_labels_reach_the_losses():
    model = build("dcgan-cond", **SMALL_DCGAN)
    x = torch.zeros(4, 1, 28, 28)
    with pytest.raises(ganzoo.SpecError, match="needs labelled training data"):
        model.d_loss(ganzoo.Batch(x))
    loss, _ = model.d_loss(ganzoo.Batch(x, torch.tensor([0, 1, 2, 3])))
    assert torch.isfinite(loss)


def test_a_conditional_run_draws_one_class_per_grid_row(run):
    grid = Image.open(run / "samples" / "step-00000002.png")
    # 64 images, 10 classes: 6 per class, one class a row (28 px and 2 px of padding each).
    assert grid.size == (6 * 30 + 2, 10 * 30 + 2)


def test_sample_draws_the_classes_asked_for(run, tmp_path):
    out = tmp_path / "threes.npz"
    result = invoke("sample", run, "--class", "3", "--n", "8", "--out", out)
    assert result.exit_code == 0, result.output
    assert "of classes 3" in result.output
    saved = np.load(out)
    assert saved["images"].shape == (8, 28, 28, 1) and saved["labels"].tolist() == [3] * 8
    grid = tmp_path / "rows.png"
    assert invoke("sample", run, "--class", "1,4,9", "--n", "12", "--out", grid).exit_code == 0
    assert Image.open(grid).size == (4 * 30 + 2, 3 * 30 + 2)  # a row per class
    wrong = invoke("sample", run, "--class", "12", "--out", grid)
    assert wrong.exit_code == 1 and "draws classes 0 to 9" in wrong.output


def test_samples_saved_with_their_labels_are_scored_by_those_labels(run, tmp_path):
    out = tmp_path / "samples.npz"
    assert invoke("sample", run, "--n", "100", "--out", out).exit_code == 0
    from_file = ganzoo.evaluate(out, dataset="mnist5k", metrics="ifid,classes")
    from_run = ganzoo.evaluate(run, metrics="ifid,classes", num_samples=100, write=False)
    per_class = from_file.extra["per_class"]["classification_accuracy"]
    assert len(per_class) == 10 and None not in per_class  # 10 images of every class
    assert from_file.protocol["generated"]["labels"] == "given with the images"
    np.savez(out, images=np.load(out)["images"])  # the same images without their labels
    unlabelled = ganzoo.evaluate(out, dataset="mnist5k", metrics="ifid,classes")
    assert "classification_accuracy" not in unlabelled.metrics
    assert from_run.protocol["generated"]["sampling"]["labels"].startswith("balanced")


def test_the_leaderboard_shows_nfe_intra_fid_and_accuracy(run, tmp_path):
    out = tmp_path / "lb"
    result = invoke("eval", "leaderboard", run, "--num-samples", "40", "--out", out)
    assert result.exit_code == 0, result.output
    markdown = (out / "mnist5k-lenet-mnist.md").read_text()
    header = next(line for line in markdown.splitlines() if line.startswith("| rank"))
    assert all(f"| {c} |" in header for c in ("NFE", "intra-FID", "accuracy", "class TV"))
    csv = (out / "mnist5k-lenet-mnist.csv").read_text().splitlines()[0].split(",")
    assert {"nfe", "intra_fid", "accuracy", "class_tv"} <= set(csv)
    html = (out / "mnist5k-lenet-mnist.html").read_text()
    assert 'data-key="nfe"' in html and 'data-key="accuracy"' in html
