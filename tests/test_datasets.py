"""The first-party datasets: shapes, labels, splits, the mnist5k cache, and user files."""

from __future__ import annotations

import gzip
import json
import shutil
import struct

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganzoo
from ganzoo.data.base import split_indices


def _check_values(data: ganzoo.ImageData) -> None:
    """Every image is uint8 in memory and reaches models as floats in [-1, 1]."""
    assert data.images.dtype == torch.uint8
    assert tuple(data.images.shape[1:]) == (data.spec.channels, data.spec.height, data.spec.width)
    image, label = data[0]
    assert image.dtype == torch.float32
    assert image.min() >= -1.0 and image.max() <= 1.0
    if data.labels is None:
        assert label == -1
    else:
        assert data.labels.dtype == torch.int64
        assert label == int(data.labels[0])


@pytest.fixture
def embedded():
    from ganzoo_datasets import embedded

    return embedded


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("GANZOO_CACHE", str(cache))
    return cache / "datasets"


# --- mnist5k ---------------------------------------------------------------------------


def test_mnist5k_is_real_mnist_with_500_per_digit():
    data = ganzoo.load_dataset("mnist5k", "all")
    assert len(data) == 5000
    assert data.spec == ganzoo.DatasetSpec(1, 28, 28, num_classes=10)
    assert np.bincount(data.labels.numpy()).tolist() == [500] * 10
    _check_values(data)
    assert int(data.images.max()) == 255 and int(data.images.min()) == 0
    # Real digits: mostly black background with some bright strokes, not noise or blanks.
    ink = (data.images > 128).float().mean(dim=(1, 2, 3))
    assert 0.05 < float(ink.mean()) < 0.3 and float(ink.min()) > 0


def test_mnist5k_split_is_stratified_disjoint_and_stable():
    full = ganzoo.load_dataset("mnist5k", "all")
    train = ganzoo.load_dataset("mnist5k", "train")
    test = ganzoo.load_dataset("mnist5k", "test")
    assert (len(train), len(test)) == (4500, 500)
    assert np.bincount(test.labels.numpy()).tolist() == [50] * 10
    train_idx = split_indices(5000, "train", full.labels.numpy())
    test_idx = split_indices(5000, "test", full.labels.numpy())
    assert not set(train_idx) & set(test_idx)
    assert sorted({*train_idx, *test_idx}) == list(range(5000))
    assert torch.equal(train.images, full.images[train_idx])
    assert torch.equal(test.images, full.images[test_idx])
    again = ganzoo.load_dataset("mnist5k", "test")
    assert torch.equal(again.images, test.images) and torch.equal(again.labels, test.labels)


def test_mnist5k_cache_is_used_instead_of_the_csv(embedded, private_cache, monkeypatch):
    first = ganzoo.load_dataset("mnist5k", "train")
    cached = list(private_cache.glob("mnist5k-*.npz"))
    assert len(cached) == 1
    assert not list(private_cache.glob("*.tmp"))

    def no_csv(path):
        raise AssertionError("the CSV was decoded although a valid cache exists")

    monkeypatch.setattr(embedded, "decode_mnist5k_csv", no_csv)
    second = ganzoo.load_dataset("mnist5k", "train")
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)


def test_mnist5k_corrupt_cache_is_rebuilt(embedded, private_cache, monkeypatch):
    reference = ganzoo.load_dataset("mnist5k", "all")
    (cache_file,) = private_cache.glob("mnist5k-*.npz")
    cache_file.write_bytes(cache_file.read_bytes()[:1000])  # truncated, as by a killed process
    decoded = []
    real_decode = embedded.decode_mnist5k_csv
    monkeypatch.setattr(
        embedded, "decode_mnist5k_csv", lambda path: decoded.append(path) or real_decode(path)
    )
    rebuilt = ganzoo.load_dataset("mnist5k", "all")
    assert len(decoded) == 1
    assert torch.equal(rebuilt.images, reference.images)
    with np.load(cache_file) as archive:  # the rewritten file is whole again
        assert archive["images"].shape == (5000, 28, 28)


def test_mnist5k_changed_source_is_noticed(embedded, private_cache, tmp_path, monkeypatch):
    source = tmp_path / "mnist_5k.csv.gz"
    shutil.copy(embedded.mnist5k_source(), source)
    monkeypatch.setattr(embedded, "mnist5k_source", lambda: source)
    before = ganzoo.load_dataset("mnist5k", "all")
    with gzip.open(source, "rt") as handle:
        rows = handle.read().splitlines()
    rows[0] = ",".join(["7"] * 784 + [rows[0].rsplit(",", 1)[1]])
    with gzip.open(source, "wt") as handle:
        handle.write("\n".join(rows) + "\n")
    after = ganzoo.load_dataset("mnist5k", "all")
    assert bool((after.images[0] == 7).all()) and not bool((before.images[0] == 7).all())
    assert len(list(private_cache.glob("mnist5k-*.npz"))) == 1  # the stale entry is gone


# --- digits ---------------------------------------------------------------------------


def test_digits_are_sklearn_8x8_scaled_to_bytes():
    full = ganzoo.load_dataset("digits", "all")
    assert len(full) == 1797
    assert full.spec == ganzoo.DatasetSpec(1, 8, 8, num_classes=10)
    assert int(full.images.max()) == 255
    _check_values(full)
    train, test = ganzoo.load_dataset("digits", "train"), ganzoo.load_dataset("digits", "test")
    assert len(train) + len(test) == 1797 and 150 < len(test) < 200


# --- folder:PATH ------------------------------------------------------------------------


def _png(path, value: int, size=(12, 10), mode="L") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, 255 - value, 0)
    Image.new(mode, size, colour).save(path)


def test_folder_with_class_subfolders_ignores_other_files_with_one_warning(tmp_path, capsys):
    for i in range(6):
        _png(tmp_path / "cats" / f"{i}.png", 10 * i)
        _png(tmp_path / "dogs" / "nested" / f"{i}.png", 200 + i)
    _png(tmp_path / "dogs" / "odd.png", 99, size=(24, 20))  # resized to the common 12x10
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / ".DS_Store").write_text("hidden: ignored silently")
    name = f"folder:{tmp_path}"
    full = ganzoo.load_dataset(name, "all")
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == 2, warnings
    assert "ignored 1 file(s) that are not images, e.g. notes.txt" in warnings[0]
    assert "resized 1 of 13 images to 10x12" in warnings[1]
    assert all(w.startswith("ganzoo: warning: ") for w in warnings)
    assert len(full) == 13
    assert full.spec == ganzoo.DatasetSpec(1, 10, 12, num_classes=2)
    assert full.labels.tolist() == [0] * 6 + [1] * 7  # sorted: cats/*, dogs/nested/*, dogs/odd
    assert int(full.images[0].max()) == 0 and int(full.images[1].min()) == 10
    assert int(full.images[6].min()) == 200  # dogs/nested/0.png
    _check_values(full)
    train, test = ganzoo.load_dataset(name, "train"), ganzoo.load_dataset(name, "test")
    assert (len(train), len(test)) == (11, 2)
    assert sorted(test.labels.tolist()) == [0, 1]
    assert torch.equal(ganzoo.load_dataset(name, "test").images, test.images)


def test_folder_and_npz_read_the_same_way_for_training_and_evaluation(tmp_path):
    """One rule: what `ganzoo train` accepts as data, `ganzoo eval` accepts as samples."""
    from ganzoo.eval import sources

    folder = tmp_path / "mixed"
    _png(folder / "a.png", 50)
    _png(folder / "b.png", 90, size=(24, 20))
    _png(folder / "c.jpg", 120, mode="RGB")
    as_data = ganzoo.load_dataset(f"folder:{folder}", "all")
    assert torch.equal(sources.resolve(folder).images, as_data.images)
    path = tmp_path / "xy.npz"
    np.savez(path, x=np.full((5, 6, 6), 7, np.uint8), y=np.arange(5))
    assert torch.equal(
        sources.resolve(path).images, ganzoo.load_dataset(f"npz:{path}", "all").images
    )
    np.savez(path, a=np.zeros((2, 6, 6), np.uint8), b=np.zeros((2, 6, 6), np.uint8))
    for load in (lambda: ganzoo.load_dataset(f"npz:{path}", "all"), lambda: sources.resolve(path)):
        with pytest.raises(ganzoo.GanzooError, match=r"holds arrays \['a', 'b'\]; name the images"):
            load()


def test_a_damaged_image_is_an_error_naming_it(tmp_path):
    _png(tmp_path / "ok.png", 10)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(
        ganzoo.GanzooError, match="cannot read image .*broken.png.*remove or replace"
    ):
        ganzoo.load_dataset(f"folder:{tmp_path}", "all")


def test_folder_flat_and_mixed_colour_gives_rgb_without_labels(tmp_path):
    _png(tmp_path / "a.png", 50)
    _png(tmp_path / "b.jpg", 120, mode="RGB")
    _png(tmp_path / "c.bmp", 200)
    data = ganzoo.load_dataset(f"folder:{tmp_path}", "all")
    assert data.spec == ganzoo.DatasetSpec(3, 10, 12, num_classes=None)
    assert data.labels is None
    assert data.images[0].eq(50).all()  # grey repeated over three channels
    assert data.images[2].eq(200).all()
    red, green = int(data.images[1, 0, 5, 5]), int(data.images[1, 1, 5, 5])
    assert abs(red - 120) <= 3 and abs(green - 135) <= 3  # JPEG is lossy
    _check_values(data)


def test_folder_errors(tmp_path):
    with pytest.raises(ganzoo.GanzooError, match="holds no images"):
        ganzoo.load_dataset(f"folder:{tmp_path}", "train")
    with pytest.raises(ganzoo.GanzooError, match="not a folder"):
        ganzoo.load_dataset(f"folder:{tmp_path / 'missing'}", "train")
    with pytest.raises(ganzoo.GanzooError, match="needs an argument"):
        ganzoo.load_dataset("folder", "train")


# --- npz:PATH ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "layout, channels",
    [("NHW", 1), ("NHWC", 3), ("NCHW", 3), ("NHWC", 1), ("NCHW", 1)],
)
def test_npz_layouts(tmp_path, layout, channels):
    rng = np.random.default_rng(0)
    nchw = rng.integers(0, 256, size=(30, channels, 9, 7), dtype=np.uint8)
    stored = {"NHW": nchw[:, 0], "NHWC": nchw.transpose(0, 2, 3, 1), "NCHW": nchw}[layout]
    labels = np.arange(30) % 3
    path = tmp_path / "data.npz"
    np.savez(path, images=stored, labels=labels)
    full = ganzoo.load_dataset(f"npz:{path}", "all")
    assert full.spec == ganzoo.DatasetSpec(channels, 9, 7, num_classes=3)
    assert torch.equal(full.images, torch.from_numpy(nchw))
    assert full.labels.tolist() == labels.tolist()
    _check_values(full)
    test = ganzoo.load_dataset(f"npz:{path}", "test")
    assert len(test) == 3 and sorted(test.labels.tolist()) == [0, 1, 2]


def test_npz_alternative_keys_and_unlabelled(tmp_path):
    images = np.full((10, 4, 4), 255, dtype=np.uint8)
    np.savez(tmp_path / "xy.npz", x=images, y=np.ones(10, dtype=np.int32))
    data = ganzoo.load_dataset(f"npz:{tmp_path / 'xy.npz'}", "all")
    assert data.spec.num_classes == 2 and data.labels.dtype == torch.int64
    np.savez(tmp_path / "first.npz", pictures=images)  # the only array
    data = ganzoo.load_dataset(f"npz:{tmp_path / 'first.npz'}", "train")
    assert data.labels is None and len(data) == 9
    assert float(data[0][0].max()) == 1.0


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "float.npz", images=np.zeros((4, 8, 8), dtype=np.float32))
    with pytest.raises(ganzoo.GanzooError, match="uint8"):
        ganzoo.load_dataset(f"npz:{tmp_path / 'float.npz'}", "all")
    np.savez(tmp_path / "shape.npz", images=np.zeros((4, 8, 8, 5), dtype=np.uint8))
    with pytest.raises(ganzoo.GanzooError, match="shape"):
        ganzoo.load_dataset(f"npz:{tmp_path / 'shape.npz'}", "all")
    np.savez(tmp_path / "labels.npz", images=np.zeros((4, 8, 8), np.uint8), labels=np.zeros(3))
    with pytest.raises(ganzoo.GanzooError, match="labels"):
        ganzoo.load_dataset(f"npz:{tmp_path / 'labels.npz'}", "all")
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ganzoo.GanzooError, match="not a readable"):
        ganzoo.load_dataset(f"npz:{tmp_path / 'junk.npz'}", "all")
    with pytest.raises(ganzoo.GanzooError, match="no such file"):
        ganzoo.load_dataset(f"npz:{tmp_path / 'missing.npz'}", "all")


# --- torchvision datasets (never downloading) -------------------------------------------


@pytest.mark.parametrize(
    "name, folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST"), ("cifar10", "cifar")]
)
def test_torchvision_sets_offline_name_the_missing_files(tmp_path, name, folder):
    with pytest.raises(ganzoo.GanzooError) as info:
        ganzoo.load_dataset(name, "train", data_root=tmp_path, download=False)
    message = str(info.value)
    assert str(tmp_path) in message and folder in message and "--download" in message
    assert not any(tmp_path.iterdir())  # nothing was fetched or created


def _idx(path, array: np.ndarray) -> None:
    """MNIST's IDX format: magic (unsigned byte type, ndim), big-endian sizes, raw bytes."""
    header = struct.pack(">I", 0x0800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST")])
def test_torchvision_mnist_files_become_nchw_bytes(tmp_path, name, folder):
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(1)
    train_x = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    test_x = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    _idx(raw / "train-images-idx3-ubyte", train_x)
    _idx(raw / "train-labels-idx1-ubyte", np.arange(12) % 10)
    _idx(raw / "t10k-images-idx3-ubyte", test_x)
    _idx(raw / "t10k-labels-idx1-ubyte", np.arange(5))
    train = ganzoo.load_dataset(name, "train", data_root=tmp_path)
    assert train.spec == ganzoo.DatasetSpec(1, 28, 28, num_classes=10)
    assert torch.equal(train.images, torch.from_numpy(train_x)[:, None])
    assert train.labels.tolist() == (np.arange(12) % 10).tolist()
    _check_values(train)
    full = ganzoo.load_dataset(name, "all", data_root=tmp_path)
    assert len(full) == 17 and full.labels[12:].tolist() == [0, 1, 2, 3, 4]


def test_cifar_arrays_become_nchw():
    from ganzoo_datasets.torchvision_sets import to_nchw

    hwc = np.random.default_rng(2).integers(0, 256, (4, 32, 32, 3), dtype=np.uint8)
    nchw = to_nchw(hwc, 3)
    assert nchw.shape == (4, 3, 32, 32) and nchw.is_contiguous()
    assert torch.equal(nchw[:, 1], torch.from_numpy(hwc[..., 1]))


# --- ganzoo datasets ----------------------------------------------------------------------


def test_cli_lists_datasets(tmp_path):
    from ganzoo.cli import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["datasets", "--data-root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "mnist5k  [datasets]" in result.stdout
    assert "1x28x28, classes: 10" in result.stdout and "4500 train / 500 test" in result.stdout
    assert "folder:PATH" in result.stdout and "npz:PATH" in result.stdout

    result = runner.invoke(cli, ["datasets", "--json", "--data-root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert {"mnist5k", "digits", "mnist", "fashion-mnist", "cifar10"} <= set(rows)
    assert rows["mnist5k"]["size"] == {"train": 4500, "test": 500}
    assert rows["digits"]["spec"]["height"] == 8
    assert "LeCun" in rows["mnist5k"]["source"]
    assert rows["cifar10"]["available"] is False and str(tmp_path) in rows["cifar10"]["error"]
    assert rows["folder:PATH"]["spec"] is None


def test_torchvision_failed_download_is_one_line(tmp_path, monkeypatch):
    import torchvision.datasets

    class Offline:
        def __init__(self, root, train, download):
            assert download is True
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    with pytest.raises(ganzoo.GanzooError, match="could not download dataset 'mnist' into"):
        ganzoo.load_dataset("mnist", "train", data_root=tmp_path, download=True)
