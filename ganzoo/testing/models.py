"""Conformance of a model class: what the shared trainer, sampler and evaluator rely on.

Every check drives the model the way ganzoo does (``Trainer`` on real mnist5k
images, ``draw_samples``, ``--set`` parsing, checkpoint and resume), so a model
that passes trains, samples, resumes and evaluates like the first-party ones.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any

import torch

from .. import config as config_mod
from ..data.base import DatasetSpec
from ..errors import ConfigError
from ..model import Model, SpecError
from ..plugins.checks import check_model_class
from ..sampling.draw import draw_samples
from ..train.options import TrainOptions
from ..train.trainer import Trainer
from .data import one_thread, shape_text, tiny_data
from .imports import imports_no_torch, plugin_of
from .report import Report, fail

SEED = 0
STEPS = 4
#: Shapes besides the one under test: each must build or be refused with SpecError.
OTHER_SHAPES = ((1, 8, 8), (3, 32, 32), (1, 25, 25))
TYPES = "use a type --set can express (int, float, bool, str, tuple, list, Literal, X | None)"


def set_text(value: Any) -> str:
    """How a user writes ``value`` after ``--set key=``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ",".join(set_text(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


class ModelChecks:
    def __init__(self, cls: type[Model], spec: DatasetSpec | None, config: Any) -> None:
        self.cls, self.overrides = cls, config
        self.spec = spec or DatasetSpec(1, 28, 28, 10)
        self.config: Any = None
        self.batch_size = 8
        self.straight: tuple[dict[str, torch.Tensor], list[tuple[str, float]]] | None = None

    def config_defaults(self) -> str:
        check_model_class(self.cls)
        self.cls.Config()  # a default_factory may still raise
        values = (
            config_mod.to_dict(self.overrides)
            if dataclasses.is_dataclass(self.overrides)
            else dict(self.overrides or {})
        )
        self.config = config_mod.from_dict(self.cls.Config, values)
        return f"{len(dataclasses.fields(self.cls.Config))} fields, all with defaults"

    def roundtrip(self) -> str:
        config = self.cls.Config()
        for f in dataclasses.fields(config):
            value = getattr(config, f.name)
            text = set_text(value)
            try:
                got = getattr(config_mod.resolve(self.cls.Config, [f"{f.name}={text}"]), f.name)
            except ConfigError as exc:
                reason = str(exc).split(". Valid keys:")[0]
                fail(f"field {f.name!r}: --set {f.name}={text} is refused ({reason}); {TYPES}")
            if got != value:
                fail(
                    f"field {f.name!r}: --set {f.name}={text} gives {got!r}, not {value!r}; {TYPES}"
                )
        stored = config_mod.from_dict(self.cls.Config, config_mod.to_dict(config))
        if stored != config:
            fail(f"Config {config!r} read back from run.json is {stored!r}")
        config_mod.describe(self.cls.Config)
        return "every default survives --set text and run.json"

    def specs(self) -> str:
        try:
            self._build(self.spec)
        except SpecError as exc:
            fail(f"refuses the shape under test {shape_text(self.spec)}: {exc}")
        accepted, refused = [shape_text(self.spec)], []
        for shape in OTHER_SHAPES:
            spec = DatasetSpec(*shape, num_classes=10)
            try:
                self.cls.check_spec(spec)
                self._build(spec)
            except SpecError:
                refused.append(shape_text(spec))
                continue
            except Exception as exc:
                fail(
                    f"{shape_text(spec)} images: {type(exc).__name__}: {exc}; refuse shapes the "
                    "model cannot handle in check_spec with ganzoo.SpecError"
                )
            accepted.append(shape_text(spec))
        return f"builds for {', '.join(accepted)}; refuses {', '.join(refused) or 'none'}"

    def _build(self, spec: DatasetSpec) -> Model:
        torch.manual_seed(SEED)
        return self.cls(self.config, spec)

    def _fit(self, run_dir: Path, steps: int) -> tuple[Model, Trainer, list[tuple[str, float]]]:
        model = self._build(self.spec)
        options = TrainOptions(
            steps=steps, batch_size=self.batch_size, seed=SEED, device="cpu", log_every=1,
            checkpoint_every=2, sample_every=10**6, num_samples=4, keep_last=0, quiet=True,
        )  # fmt: skip
        trainer = Trainer(model, tiny_data(self.spec), options, run_dir=run_dir)
        losses: list[tuple[str, float]] = []
        for phase in trainer.phases:
            phase.loss = _recording(phase.name, phase.loss, losses)
        trainer.fit()
        return model, trainer, losses

    def training(self) -> str:
        before = {k: v.clone() for k, v in self._build(self.spec).state_dict().items()}
        with tempfile.TemporaryDirectory(prefix="ganzoo-check-") as tmp:
            model, _, losses = self._fit(Path(tmp), STEPS)
        state = model.state_dict()
        self.straight = ({k: v.clone() for k, v in state.items()}, losses)
        if all(torch.equal(v, before[k]) for k, v in state.items()):
            fail(
                f"no weight changed in {STEPS} steps; each phase's loss must depend on the "
                "parameters its optimizer holds"
            )
        by_phase: dict[str, list[float]] = {}
        for phase, value in losses:
            by_phase.setdefault(phase, []).append(value)
        if all(len(set(values)) == 1 for values in by_phase.values()):
            fail(f"the loss never changed in {STEPS} steps: {by_phase}")
        shown = "; ".join(f"{p} {v[0]:.4g} -> {v[-1]:.4g}" for p, v in by_phase.items())
        return f"{STEPS} steps, batch {self.batch_size}: {shown}"

    def determinism(self) -> str:
        state, losses = self.straight
        with tempfile.TemporaryDirectory(prefix="ganzoo-check-") as tmp:
            model, _, again = self._fit(Path(tmp), STEPS)
        differs = _differing(state, model.state_dict())
        if again != losses or differs:
            fail(
                f"two runs with seed {SEED} differ ({', '.join(differs[:3]) or 'losses'}); take "
                "randomness from torch's generators (torch.randn, ganzoo.noise), not numpy or random"
            )
        return f"two runs with seed {SEED}: identical losses and weights"

    def resume(self) -> str:
        state, _ = self.straight
        with tempfile.TemporaryDirectory(prefix="ganzoo-check-") as tmp:
            self._fit(Path(tmp), STEPS // 2)
            model, trainer, _ = self._fit(Path(tmp), STEPS)
        differs = _differing(state, model.state_dict())
        if differs:
            fail(
                f"{STEPS // 2} steps, a checkpoint and {STEPS // 2} more differ from {STEPS} "
                f"straight in {', '.join(differs[:3])}; keep training state in the modules, "
                "schedules in configure_schedulers and randomness in torch's generators"
            )
        return f"{STEPS // 2} + {STEPS // 2} steps with resume == {STEPS} straight"

    def sampling(self) -> str:
        model = self._build(self.spec)
        model.train()
        modes = [m.training for m in model.modules()]
        first = draw_samples(model, 4, torch.Generator().manual_seed(1))  # checks the contract
        if [m.training for m in model.modules()] != modes:
            fail("draw_samples did not restore train mode")
        again = draw_samples(model, 4, torch.Generator().manual_seed(1))
        if not torch.equal(first, again):
            fail(
                "the same generator seed gave different images; draw sample noise from the "
                "`generator` argument (ganzoo.noise(n, dim, device, generator))"
            )
        model.eval()
        draw_samples(model, 2, torch.Generator().manual_seed(2))
        if model.training:
            fail("draw_samples left an eval-mode model in train mode")
        low, high = float(first.min()), float(first.max())
        return (
            f"4x{shape_text(self.spec)} {str(first.dtype)[6:]} in [{low:.3g}, {high:.3g}], seeded"
        )

    def lazy_import(self) -> str:
        return imports_no_torch(*plugin_of("register_models", self.cls))


def _recording(name: str, loss: Any, into: list[tuple[str, float]]) -> Any:
    def recorded(batch: Any) -> Any:
        value, logs = loss(batch)
        into.append((name, float(value.detach())))
        return value, logs

    return recorded


def _differing(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> list[str]:
    return [k for k in a if k not in b or not torch.equal(a[k], b[k])]


def model_report(cls: type[Model], spec: DatasetSpec | None = None, config: Any = None) -> Report:
    checks = ModelChecks(cls, spec, config)
    report = Report(f"model {getattr(cls, 'name', cls.__name__)!r}")
    with one_thread():
        report.run("config-defaults", checks.config_defaults)
        report.run("config-set-roundtrip", checks.roundtrip, needs=("config-defaults",))
        report.run("spec", checks.specs, needs=("config-defaults",))
        report.run("training", checks.training, needs=("spec",))
        report.run("seed-determinism", checks.determinism, needs=("training",))
        report.run("resume", checks.resume, needs=("seed-determinism",))
        report.run("sampling", checks.sampling, needs=("spec",))
        report.run("import-without-torch", checks.lazy_import)
    return report
