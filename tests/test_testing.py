"""ganzoo.testing: the conformance checks pass ganzoo's own plugins and catch each kind of mistake.

Every broken plugin here breaks exactly one rule, and the test checks that the
check for that rule (and no other) fails, with the line its author would read.
"""

from __future__ import annotations

import ast
import dataclasses
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganzoo
from ganzoo import plugins
from ganzoo.cli import cli
from ganzoo.testing import ConformanceError, check_dataset, check_extractor, check_model

REPO = Path(__file__).resolve().parents[1]
MODEL_CHECKS = [
    "config-defaults", "config-set-roundtrip", "spec", "training", "seed-determinism", "resume",
    "sampling", "import-without-torch",
]  # fmt: skip


def statuses(report) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


def failed_lines(report) -> list[str]:
    return [check.line() for check in report.failures]


@dataclasses.dataclass
class LinearConfig:
    lr: float = 0.05
    betas: tuple[float, float] = (0.5, 0.9)
    mode: str = "plain"


class Linear(ganzoo.Model):
    """A correct little model: the base every broken variant below changes in one place."""

    name = "linear"
    family = "test"
    description = "a linear generator"
    Config = LinearConfig

    def build(self) -> None:
        self.net = torch.nn.Linear(4, self.spec.dims)

    def configure_optimizers(self):
        return {"g": torch.optim.Adam(self.net.parameters(), lr=self.config.lr)}

    def phases(self):
        return [ganzoo.Phase("g", "g", self.loss)]

    def loss(self, batch):
        fake = self.net(torch.randn(batch.size, 4, device=batch.x.device))
        return (fake - batch.x.flatten(1)).pow(2).mean(), {}

    def sample(self, n, generator=None):
        z = ganzoo.noise(n, 4, self.device, generator)
        return torch.tanh(self.net(z)).view(
            n, self.spec.channels, self.spec.height, self.spec.width
        )


def variant(name: str, **attributes) -> type:
    return type(f"Linear_{name}", (Linear,), {"name": name, **attributes})


@dataclasses.dataclass
class DictConfig:
    lr: float = 0.05
    table: dict = dataclasses.field(default_factory=lambda: {"a": 1})


def _numpy_noise_loss(self, batch):
    noise = torch.from_numpy(np.random.rand(batch.size, 4).astype("float32"))
    return (self.net(noise) - batch.x.flatten(1)).pow(2).mean(), {}


def _counting_loss(self, batch):
    self.calls = getattr(self, "calls", 0) + 1  # state outside the modules: lost on resume
    return Linear.loss(self, batch)[0] * (1 + 0.1 * (self.calls % 3)), {}


def _global_rng_sample(self, n, generator=None):
    z = torch.randn(n, 4)  # ignores the generator it was given
    return torch.tanh(self.net(z)).view(n, self.spec.channels, self.spec.height, self.spec.width)


def _picky_spec(cls, spec):
    if spec.channels != 1:
        raise ValueError("colour")


BROKEN = {
    "config-set-roundtrip": (
        variant("dictconf", Config=DictConfig),
        "field 'table': --set table={'a': 1} is refused (bad value \"{'a': 1}\" for 'table' "
        "(expected dict): unsupported hyperparameter type <class 'dict'>); use a type --set can "
        "express (int, float, bool, str, tuple, list, Literal, X | None)",
    ),
    "spec": (
        variant("picky", check_spec=classmethod(_picky_spec)),
        "3x32x32 images: ValueError: colour; refuse shapes the model cannot handle in check_spec "
        "with ganzoo.SpecError",
    ),
    "training": (
        variant(
            "frozen",
            configure_optimizers=lambda self: {"g": torch.optim.SGD(self.net.parameters(), lr=0.0)},
        ),
        "no weight changed in 4 steps; each phase's loss must depend on the parameters its "
        "optimizer holds",
    ),
    "seed-determinism": (
        variant("numpyrng", loss=_numpy_noise_loss),
        "two runs with seed 0 differ (net.weight, net.bias); take randomness from torch's "
        "generators (torch.randn, ganzoo.noise), not numpy or random",
    ),
    "resume": (
        variant("counter", loss=_counting_loss),
        "2 steps, a checkpoint and 2 more differ from 4 straight in net.weight, net.bias; keep "
        "training state in the modules, schedules in configure_schedulers and randomness in "
        "torch's generators",
    ),
    "sampling": (
        variant("globalrng", sample=_global_rng_sample),
        "the same generator seed gave different images; draw sample noise from the `generator` "
        "argument (ganzoo.noise(n, dim, device, generator))",
    ),
}


@pytest.fixture
def only_ganzoo(monkeypatch):
    monkeypatch.setenv("GANZOO_LOAD_PLUGINS", "ganzoo")
    monkeypatch.delenv("GANZOO_STRICT_PLUGINS", raising=False)
    plugins.reset()
    yield
    plugins.reset()


def test_a_correct_model_passes_and_an_in_process_object_skips_the_import_check(only_ganzoo):
    class Plugin:
        @ganzoo.hookimpl
        def register_models(self, register):
            register(Linear)

    plugins.register_plugin(Plugin(), "linear")
    report = check_model(Linear)
    assert list(statuses(report)) == MODEL_CHECKS
    assert report.ok and statuses(report)["import-without-torch"] == "SKIP"
    assert (
        report.checks[-1].detail
        == "plugin 'linear' is an in-process object, not an importable module"
    )


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_each_broken_model_fails_its_check_only(rule):
    cls, message = BROKEN[rule]
    report = check_model(cls, raises=False)
    failed = {name for name, status in statuses(report).items() if status == "FAIL"}
    assert failed == {rule}, report.lines()
    (line,) = failed_lines(report)
    assert line.startswith(f"FAIL {rule}: {message}"), line
    with pytest.raises(ConformanceError) as info:
        check_model(cls)
    assert str(info.value).splitlines() == [f"model '{cls.name}': 1 check(s) failed", line]


TORCH_AT_IMPORT = """
import torch  # at module level: every ganzoo command would pay for it

import ganzoo


@ganzoo.hookimpl
def register_models(register):
    from {base} import Linear

    register(type("Eager", (Linear,), {{"name": "eager"}}))
"""


def test_a_plugin_importing_torch_at_module_level_fails_the_import_check(
    only_ganzoo, tmp_path, monkeypatch
):
    module = f"gz_eager_{os.getpid()}"
    (tmp_path / f"{module}.py").write_text(TORCH_AT_IMPORT.format(base=__name__))
    monkeypatch.syspath_prepend(str(tmp_path))
    imported = __import__(module)
    plugins.register_plugin(imported, "eager")
    report = check_model("eager", raises=False)
    assert failed_lines(report) == [
        f"FAIL import-without-torch: importing {module} imports torch; import them inside the "
        "hook functions instead (every ganzoo command, --help included, imports each plugin)"
    ]


def test_checks_that_need_a_failed_one_are_skipped():
    cls = variant("dictconf2", Config=DictConfig)
    report = check_model(cls, raises=False)
    assert statuses(report)["training"] == "PASS"  # needs only config-defaults and spec
    nodefault = variant("nodefault", Config=dataclasses.make_dataclass("C", [("x", int)]))
    report = check_model(nodefault, raises=False)
    assert statuses(report) == {
        "config-defaults": "FAIL", "config-set-roundtrip": "SKIP", "spec": "SKIP",
        "training": "SKIP", "seed-determinism": "SKIP", "resume": "SKIP", "sampling": "SKIP",
        "import-without-torch": "SKIP",
    }  # fmt: skip
    assert report.checks[0].detail == (
        "model 'nodefault': Config field 'x' has no default; give every field a default (ganzoo "
        "builds Config() and users change values with --set)"
    )
    assert report.checks[2].detail == "needs config-defaults to pass first"


# -------------------------------------------------------------------------------- datasets


def _dataset_plugin(loader):
    class Plugin:
        @ganzoo.hookimpl
        def register_datasets(self, register):
            register("broken", loader, description="d", source="s")

    return Plugin()


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.from_numpy(
        np.random.default_rng(seed).integers(0, 256, (n, 1, 8, 8), dtype=np.uint8)
    )


def _same_for_every_split(split, ctx):
    n = 20 if split == "all" else 10
    return ganzoo.ImageData(_images(n, 0), None, ganzoo.DatasetSpec(1, 8, 8), "broken", split)


def _new_every_time(split, ctx):
    n = {"train": 18, "test": 2, "all": 20}[split]
    return ganzoo.ImageData(
        _images(n, np.random.randint(1 << 30)), None, ganzoo.DatasetSpec(1, 8, 8), "broken", split
    )


def _labels_out_of_range(split, ctx):
    index = ganzoo.split_indices(20, split)
    labels = torch.arange(20)[index]  # 0..19 with num_classes=10
    return ganzoo.ImageData(
        _images(20, 0)[index], labels, ganzoo.DatasetSpec(1, 8, 8, 10), "broken", split
    )


@pytest.mark.parametrize(
    ("loader", "failures"),
    [
        (_same_for_every_split, ["FAIL splits-disjoint: 10 of 10 test images are also in train; hold out a fixed part (ganzoo.split_indices(n, split, labels))"]),
        (_new_every_time, ["FAIL stable: loading split 'train' twice gave different data; seed any random split"]),
        (_labels_out_of_range, ["FAIL labels: split 'train': labels span 0..19, outside 0..9 (spec.num_classes)"]),
    ],
)  # fmt: skip
def test_each_broken_dataset_fails_its_check(only_ganzoo, loader, failures):
    plugins.register_plugin(_dataset_plugin(loader), "brokendata")
    report = check_dataset("broken", raises=False)
    assert failed_lines(report) == failures


@pytest.mark.parametrize("name", ["mnist5k", "digits"])
def test_first_party_datasets_conform(name):
    report = check_dataset(name)
    assert [c.status for c in report.checks] == ["PASS"] * 7, report.lines()


def test_user_files_conform_through_npz_and_folder(tmp_path):
    from PIL import Image

    data = ganzoo.testing.tiny_data(n=60)
    images = data.images.permute(0, 2, 3, 1).numpy()
    np.savez(tmp_path / "digits.npz", images=images, labels=data.labels.numpy())
    for i, image in enumerate(images[:40]):
        folder = tmp_path / "pngs" / str(int(data.labels[i]))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image[:, :, 0]).save(folder / f"{i}.png")
    for name in (f"npz:{tmp_path / 'digits.npz'}", f"folder:{tmp_path / 'pngs'}"):
        assert check_dataset(name).ok
    report = check_dataset("npz", raises=False)
    assert failed_lines(report) == [
        "FAIL registered: dataset 'npz' takes an argument: check it as npz:ARG"
    ]


# ------------------------------------------------------------------------------ extractors


def test_the_first_party_lenet_extractor_conforms():
    report = check_extractor("lenet-mnist")
    assert [c.status for c in report.checks] == ["PASS"] * 6, report.lines()
    assert (
        report.checks[3].detail == "features 128-d, logits 10-d for uint8 3x28x28 and 3x32x32 input"
    )


def _extractor_plugin(forward):
    from ganzoo_extractors.lenet import LeNetMnistExtractor

    broken = type("Broken", (LeNetMnistExtractor,), {"forward": forward})

    class Plugin:
        @ganzoo.hookimpl
        def register_feature_extractors(self, register):
            info = ganzoo.FeatureExtractorInfo(
                extractor_class=broken,
                layers={"fid": "features"},
                resolve_weights="ganzoo_extractors.lenet:resolve_weights",
            )
            register("brokenext", info)

    return Plugin()


def _noisy(self, x):
    (features,) = type(self).__mro__[1].forward(self, x)
    return (features + torch.rand_like(features) * 1e-3,)


def _three_d(self, x):
    (features,) = type(self).__mro__[1].forward(self, x)
    return (features[:, None],)


@pytest.mark.parametrize(
    ("forward", "failure"),
    [
        (_noisy, "FAIL deterministic: feature 'features' differs between two passes over the same images"),
        (_three_d, "FAIL features: feature 'features' has shape (8, 1, 128); expected 8 x D for 8 images"),
    ],
)  # fmt: skip
def test_each_broken_extractor_fails_its_check(only_ganzoo, forward, failure):
    plugins.register_plugin(_extractor_plugin(forward), "brokenext")
    report = check_extractor("brokenext", raises=False)
    assert failed_lines(report) == [failure]


# ------------------------------------------------------------------------------- the command


def test_ganzoo_check_prints_one_line_per_check_and_exits_1_on_failure(only_ganzoo):
    class Plugin:
        @ganzoo.hookimpl
        def register_models(self, register):
            register(BROKEN["sampling"][0])

        @ganzoo.hookimpl
        def register_datasets(self, register):
            register("gan", _same_for_every_split, description="d", source="s")

    ok = CliRunner().invoke(cli, ["check", "mnist5k"])
    assert ok.exit_code == 0, ok.output
    assert [line.split(":")[0] for line in ok.stdout.splitlines()] == [
        "PASS registered", "PASS loads", "PASS format", "PASS labels", "PASS splits-disjoint",
        "PASS stable", "PASS import-without-torch",
    ]  # fmt: skip
    plugins.register_plugin(Plugin(), "mixed")
    bad = CliRunner().invoke(cli, ["check", "globalrng"])
    assert bad.exit_code == 1
    assert [line.split(":")[0] for line in bad.stdout.splitlines()] == [
        f"{'FAIL' if name == 'sampling' else 'SKIP' if name == 'import-without-torch' else 'PASS'} {name}"
        for name in MODEL_CHECKS
    ]
    assert bad.stderr == "Error: 1 of 8 checks failed for model 'globalrng'\n"
    ambiguous = CliRunner().invoke(cli, ["check", "gan"])
    assert ambiguous.exit_code == 1
    assert (
        ambiguous.stderr
        == "Error: 'gan' is a registered model and a dataset; choose one with --kind\n"
    )
    unknown = CliRunner().invoke(cli, ["check", "lenet-mnst"])
    assert unknown.stderr.startswith(
        "Error: 'lenet-mnst' is not a registered model, dataset or feature extractor. "
        "Did you mean: lenet-mnist, "
    )


def test_ganzoo_check_on_a_smaller_first_party_model():
    result = CliRunner().invoke(cli, ["check", "dcgan", "--set", "width=8", "--spec", "1x16x16"])
    assert result.exit_code == 0, result.output
    assert "PASS spec: builds for 1x16x16, 1x8x8, 3x32x32; refuses 1x25x25" in result.stdout


# ----------------------------------------------------------------------- the pytest plugin


def test_the_pytest_plugin_is_declared_and_loaded_in_this_very_session(pytestconfig):
    import tomllib

    from ganzoo.testing import fixtures

    entry_points = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"]
    assert entry_points["pytest11"] == {"ganzoo": "ganzoo.testing.fixtures"}
    assert pytestconfig.pluginmanager.get_plugin("ganzoo") is fixtures, "pip install -e . again"


def test_its_fixtures_cannot_clash_with_this_repositorys():
    from ganzoo.testing import fixtures

    ours = {name for name in vars(fixtures) if name.startswith("ganzoo_")}
    assert ours == {"ganzoo_plugin", "ganzoo_tiny_data", "ganzoo_cli"}
    for path in (REPO / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and any(
                "fixture" in ast.unparse(d) for d in node.decorator_list
            ):
                assert node.name not in ours, f"{path.name} defines fixture {node.name}"


PLUGIN_AUTHOR_TESTS = """
import sys

import click

import ganzoo
import ganzoo.testing

TORCH_AT_COLLECTION = "torch" in sys.modules


class Hello:
    @ganzoo.hookimpl
    def register_commands(self, cli):
        @cli.command("hello-author")
        def hello():
            click.echo("hello")


def test_pytest_starts_without_torch():
    assert not TORCH_AT_COLLECTION


def test_the_fixtures(ganzoo_plugin, ganzoo_cli, ganzoo_tiny_data):
    import os

    assert os.environ["GANZOO_LOAD_PLUGINS"] == "ganzoo"
    assert ganzoo_plugin(Hello(), "hello") == "hello"
    assert ganzoo_cli("hello-author").stdout == "hello\\n"
    assert len(ganzoo_tiny_data) == 256 and ganzoo_tiny_data.spec.dims == 784


def test_the_plugin_is_gone_afterwards(ganzoo_cli):
    assert ganzoo_cli("hello-author").exit_code == 2
"""


def test_a_plugin_authors_test_file_uses_the_fixtures(tmp_path):
    (tmp_path / "test_author.py").write_text(textwrap.dedent(PLUGIN_AUTHOR_TESTS))
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GANZOO_") or k == "GANZOO_CACHE"
    }
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p or os.getcwd() for p in sys.path])
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


def test_ganzoo_main_accepts_argv(capsys):
    import signal

    from ganzoo.cli import main

    handler = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as info:
            main(["extractors"])
    finally:
        signal.signal(signal.SIGTERM, handler)
    assert info.value.code == 0
    assert "lenet-mnist" in capsys.readouterr().out
