"""The evaluator on real mnist5k digits with the fast lenet-mnist extractor (plus error paths)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

import ganzoo
from ganzoo.eval import api, refcache


class Images(torch.utils.data.Dataset):
    """uint8 images as torch-fidelity's own inputs take them: 3 channels each."""

    def __init__(self, images: torch.Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i].expand(3, -1, -1).contiguous()


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("GANZOO_OFFLINE", "1")
    monkeypatch.delenv("GANZOO_INCEPTION_WEIGHTS", raising=False)


@pytest.fixture(scope="module")
def test_images() -> torch.Tensor:
    return ganzoo.load_dataset("mnist5k", "test").images


@pytest.fixture(scope="module")
def train_images() -> torch.Tensor:
    data = ganzoo.load_dataset("mnist5k", "train")
    keep = torch.randperm(len(data), generator=torch.Generator().manual_seed(1))[:300]
    return data.images[keep]


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


def test_fid_of_a_set_with_itself_is_zero_and_is_counts_classes(test_images):
    result = ganzoo.evaluate(test_images, dataset="mnist5k", metrics="is,fid")
    assert result.metrics["frechet_inception_distance"] < 1e-3
    # 10 balanced classes, classified at 98%: IS of the real test split is 8.84 (ideal 10).
    assert 8.0 < result.metrics["inception_score_mean"] <= 10.0
    proto = result.protocol
    assert proto["reference"] == {
        "dataset": "mnist5k",
        "split": "test",
        "num_images": 500,
        "subset_seed": None,
    }
    assert proto["extractor"]["name"] == "lenet-mnist"
    assert len(proto["extractor"]["weights_sha256"]) == 64
    assert set(proto["versions"]) == {"ganzoo", "torch", "torch_fidelity", "python"}


def test_batch_size_does_not_change_metrics(train_images):
    common = dict(dataset="mnist5k", metrics="is,fid,kid", kid_subset_size=100)
    a = ganzoo.evaluate(train_images, batch_size=17, **common)
    b = ganzoo.evaluate(train_images, batch_size=128, **common)
    for key in (
        "inception_score_mean",
        "frechet_inception_distance",
        "kernel_inception_distance_mean",
    ):
        assert rel(a.metrics[key], b.metrics[key]) < 1e-4, key


def test_equals_a_direct_torch_fidelity_call(train_images, test_images):
    import torch_fidelity

    # torch-fidelity's four (the class metrics, also on by default for lenet-mnist, are ours).
    ours = ganzoo.evaluate(
        train_images, dataset="mnist5k", kid_subset_size=200, metrics="is,fid,kid,pr"
    )
    info = ganzoo.eval.extractors.get_extractor("lenet-mnist")
    name = ganzoo.eval.extractors.torch_fidelity_name("lenet-mnist", info)
    direct = torch_fidelity.calculate_metrics(
        input1=Images(train_images),
        input2=Images(test_images),
        feature_extractor=name,
        isc=True,
        fid=True,
        kid=True,
        prc=True,
        kid_subset_size=200,
        cuda=False,
        save_cpu_ram=True,
        verbose=False,
    )
    assert set(direct) == set(ours.metrics)
    for key, value in direct.items():
        assert rel(ours.metrics[key], value) < 1e-6, key


def test_frechet_distance_matches_scipy_float64(train_images, test_images):
    from ganzoo_extractors.lenet import LeNetMnistExtractor
    from scipy import linalg

    net = LeNetMnistExtractor("lenet-mnist", ["features"])
    with torch.no_grad():
        feats = [
            net(x.expand(-1, 3, -1, -1))[0].double().numpy() for x in (train_images, test_images)
        ]
    mu1, mu2 = (f.mean(0) for f in feats)
    s1, s2 = (np.cov(f, rowvar=False) for f in feats)
    covmean = linalg.sqrtm(s1 @ s2).real
    expected = float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))
    ours = ganzoo.evaluate(train_images, dataset="mnist5k", metrics="fid")
    assert rel(ours.metrics["frechet_inception_distance"], expected) < 1e-5


def test_reference_is_cached_verified_and_rebuilt(train_images, monkeypatch):
    first = ganzoo.evaluate(train_images[:100], dataset="mnist5k", metrics="fid,pr")

    def no_reading(*args, **kwargs):
        raise AssertionError("the real images were read again")

    monkeypatch.setattr("ganzoo.data.registry.load_dataset", no_reading)
    second = ganzoo.evaluate(train_images[:100], dataset="mnist5k", metrics="fid,pr")
    assert second.metrics == first.metrics
    monkeypatch.undo()
    monkeypatch.setenv("GANZOO_OFFLINE", "1")

    ref = refcache.Reference(
        "mnist5k",
        "test",
        "lenet-mnist",
        first.protocol["extractor"]["weights_sha256"],
        ganzoo.eval.extractors.get_extractor("lenet-mnist").resize,
        2,
    )
    assert ref.path.is_file() and ref.num_images() == 500 and ref.shape() == (1, 28, 28)
    ref.path.write_bytes(b"not a tensor file")  # damaged: recomputed, never trusted
    third = ganzoo.evaluate(train_images[:100], dataset="mnist5k", metrics="fid,pr")
    assert third.metrics == pytest.approx(first.metrics, rel=1e-6)
    assert ref.path.read_bytes() != b"not a tensor file"


def test_model_target_with_seeds_reports_spread(test_images):
    class Replay(ganzoo.Model):
        """Samples real test digits at random: a perfect, stochastic generator."""

        name, family, description = "replay", "test", "test double"
        Config = type("Config", (), {})

        def build(self) -> None:
            self.register_buffer("bank", test_images.clone())
            self.dummy = torch.nn.Linear(1, 1)

        def sample(self, n, generator=None):
            idx = torch.randint(0, len(self.bank), (n,), generator=generator)
            return self.bank[idx].float() / 127.5 - 1

    spec = ganzoo.load_dataset("mnist5k", "test").spec
    model = Replay(None, spec)
    result = ganzoo.evaluate(model, dataset="mnist5k", metrics="fid", num_samples=200, seeds=2)
    assert result.protocol["generated"]["seeds"] == [0, 1]
    assert len(result.per_seed) == 2 and result.per_seed[0] != result.per_seed[1]
    mean = (
        result.per_seed[0]["frechet_inception_distance"]
        + result.per_seed[1]["frechet_inception_distance"]
    ) / 2
    assert math.isclose(result.metrics["frechet_inception_distance"], mean)
    assert result.metrics_std["frechet_inception_distance"] > 0
    assert result.bits_per_dim is None


# ---- bad input: one clear error, nothing written ----------------------------------------


def test_unknown_extractor_suggests_close_names(test_images):
    with pytest.raises(ganzoo.GanzooError, match="Did you mean: lenet-mnist"):
        ganzoo.evaluate(test_images, extractor="lenet-mnst")


def test_unknown_metric(test_images):
    with pytest.raises(ganzoo.GanzooError, match="unknown metric 'ppl'"):
        ganzoo.evaluate(test_images, metrics="fid,ppl")


def test_sample_folders_with_bad_contents(tmp_path):
    from PIL import Image

    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ganzoo.GanzooError, match="no images"):
        ganzoo.evaluate(empty)
    broken = tmp_path / "broken"
    broken.mkdir()
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(broken / "a.png")
    (broken / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(ganzoo.GanzooError, match="cannot read image .*b.png"):
        ganzoo.evaluate(broken)
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for i in range(20):
        Image.fromarray(np.full((32, 32), i, np.uint8)).save(wrong / f"{i}.png")
    with pytest.raises(ganzoo.GanzooError, match="32x32 but the reference dataset is 28x28"):
        ganzoo.evaluate(wrong, extractor="lenet-mnist")


def test_fewer_samples_than_kid_subset(test_images):
    with pytest.raises(ganzoo.GanzooError, match="KID subset size 1000 is larger"):
        ganzoo.evaluate(test_images[:50], metrics="kid", kid_subset_size=1000)


def test_missing_inception_weights_lists_every_way(monkeypatch, test_images):
    from ganzoo_extractors import inception_convert

    monkeypatch.setattr(inception_convert, "fallback_source", lambda: None)
    with pytest.raises(
        ganzoo.GanzooError,
        match="no InceptionV3 weights found.*--extractor-weights.*offline-inception",
    ):
        ganzoo.evaluate(test_images, extractor="inception-v3-compat")
    with pytest.raises(ganzoo.GanzooError, match="does not exist"):
        ganzoo.evaluate(
            test_images, extractor="inception-v3-compat", extractor_weights="/nonexistent.pth"
        )


def test_corrupt_checkpoint_is_a_clear_error_and_writes_nothing(tmp_path):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "run.json").write_text(json.dumps({"model": "x", "dataset": "mnist5k"}))
    (run / "checkpoints" / "step-00000010.pt").write_bytes(b"\x00garbage")
    with pytest.raises(ganzoo.GanzooError, match="step-00000010.pt"):
        ganzoo.evaluate(run)
    assert not (run / "eval").exists()


def test_cli_scores_an_npz_and_prints_protocol_json(tmp_path, train_images):
    from click.testing import CliRunner

    from ganzoo.cli import cli

    path = tmp_path / "samples.npz"
    np.savez(path, images=train_images[:100].numpy())
    out = CliRunner().invoke(cli, ["eval", str(path), "--metrics", "fid,pr", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["protocol"]["generated"]["num_images"] == 100
    assert data["protocol"]["metrics"] == ["fid", "prc"]
    assert data["metrics"]["frechet_inception_distance"] > 0
    out = CliRunner().invoke(cli, ["eval", str(tmp_path / "missing.npz")])
    assert out.exit_code == 1 and "does not exist" in out.output


def test_default_extractor_follows_shape():
    assert api.default_extractor((1, 28, 28)) == "lenet-mnist"
    assert api.default_extractor((3, 32, 32)) == "inception-v3-compat"


def test_a_misspelt_evaluation_option_is_an_error_not_ignored(test_images):
    with pytest.raises(ganzoo.GanzooError, match="unknown evaluation option.*'num_sample'"):
        ganzoo.evaluate(test_images, num_sample=10)


def test_run_directory_target_records_protocol_and_bits_per_dim(tmp_path):
    """A trained run is scored from its directory alone; likelihood models add held-out bits/dim."""
    from ganzoo.train.trainer import Trainer, TrainOptions

    data = ganzoo.load_dataset("mnist5k", "train")
    torch.manual_seed(0)
    cls = ganzoo.model_class("vae")
    model = cls(cls.Config(), data.spec)
    options = TrainOptions(steps=3, batch_size=32, checkpoint_every=3, sample_every=3, quiet=True)
    Trainer(model, data, options, run_dir=tmp_path).fit()  # writes run.json itself

    result = ganzoo.evaluate(tmp_path, metrics="fid,kid", num_samples=200)
    assert result.protocol["checkpoint"] == {"step": 3, "ema": False}
    assert result.protocol["reference"]["dataset"] == "mnist5k"
    assert result.protocol["bits_per_dim_split"] == "mnist5k:test"
    assert result.path == tmp_path / "eval" / f"step-00000003-raw-{result.protocol_id}.json"
    written = json.loads(result.path.read_text())
    assert written["protocol_id"] == result.protocol_id
    assert (
        written["metrics"]["frechet_inception_distance"]
        == result.metrics["frechet_inception_distance"]
    )

    test = ganzoo.load_dataset("mnist5k", "test")
    model.eval()
    with torch.no_grad():
        direct = model.bits_per_dim(ganzoo.Batch(test.to_float(test.images))).double().mean()
    # The VAE's bound samples latents: equal up to Monte-Carlo noise, and exactly repeatable.
    assert result.bits_per_dim == pytest.approx(float(direct), rel=2e-3)
    assert 0.5 < result.bits_per_dim < 8.0
    again = ganzoo.evaluate(tmp_path, metrics="fid", num_samples=200, write=False)
    assert again.bits_per_dim == result.bits_per_dim


def test_a_reference_file_is_compared_whole_unless_a_split_is_asked(tmp_path, train_images):
    """`ganzoo eval a.npz --dataset npz:b.npz` scores against all of b.npz, and says how many."""
    from click.testing import CliRunner

    from ganzoo.cli import cli

    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    np.savez(a, images=train_images[:100].numpy())
    np.savez(b, images=train_images[100:200].numpy())
    args = ["eval", str(a), "--dataset", f"npz:{b}", "--metrics", "fid"]
    whole = CliRunner().invoke(cli, [*args, "--json"])
    assert whole.exit_code == 0, whole.output
    data = json.loads(whole.stdout)
    assert data["compared"] == {"generated": 100, "real": 100}
    assert data["protocol"]["reference"]["split"] == "all"
    text = CliRunner().invoke(cli, args)
    assert f"100 generated vs npz:{b}:all (100 real)" in text.stdout
    tenth = CliRunner().invoke(cli, [*args, "--split", "test", "--json"])
    assert json.loads(tenth.stdout)["compared"] == {"generated": 100, "real": 10}


def test_progress_bars_on_a_terminal_only(monkeypatch, capsys, tmp_path, train_images):
    """Sampling and extraction show images/s on a terminal; nothing on a pipe or with --json."""
    from click.testing import CliRunner

    from ganzoo.cli import cli
    from ganzoo.eval import progress

    model = ganzoo.build_model("gan", ganzoo.load_dataset("mnist5k", "test").spec, {})
    monkeypatch.setattr(progress, "_terminal", lambda: False)
    ganzoo.evaluate(model, num_samples=300, metrics="fid")
    assert capsys.readouterr().err == ""

    monkeypatch.setattr(progress, "_terminal", lambda: True)
    ganzoo.evaluate(model, num_samples=300, metrics="fid")
    bars = capsys.readouterr().err
    assert "sampling" in bars and "features" in bars and "img/s" in bars

    path = tmp_path / "samples.npz"
    np.savez(path, images=train_images[:100].numpy())
    out = CliRunner().invoke(cli, ["eval", str(path), "--metrics", "fid", "--json"])
    assert out.exit_code == 0, out.output
    assert "img/s" not in out.output and json.loads(out.output)["metrics"]
