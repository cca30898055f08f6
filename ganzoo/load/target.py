"""What a TARGET names, decided once: a run directory, a checkpoint file, a model folder or a
pretrained name, and the one set of messages for a TARGET that names none of them.

``ganzoo sample``, ``ganzoo eval``, ``ganzoo export``, ``ganzoo.load_run``,
``ganzoo.from_pretrained`` and the leaderboards all take a TARGET.  Each used
to decide for itself, with its own rule and its own error texts, so the same
path could be a run to one command and a folder of images to another.  The
rule, in order:

1. a folder with ``config.json`` and no ``run.json`` (or with ``config.json``
   and ``model.safetensors``): a model folder, as ``ganzoo export`` writes it.
   One that lacks its weights is still meant as one, and loading it says so;
2. a folder with ``run.json`` or ``checkpoints/``: a run directory;
3. a ``.pt`` or ``.pth`` file: a checkpoint;
4. no such path, but a name a plugin registered: a pretrained model;
5. no such path nor name: ``missing`` (close pretrained names are suggested);
6. anything else: ``other``.  Loading a model reads such a folder as a run
   directory and such a file as a checkpoint (which says what it lacks); the
   evaluator reads it as samples.

Nothing here needs torch: the leaderboards and ``ganzoo models`` ask too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import GanzooError, did_you_mean
from .folder import CONFIG, is_model_folder
from .registry import HOOK, is_pretrained_name, pretrained_models

#: What a model TARGET may be, as every message says it.
MODEL_TARGETS = (
    "a run directory",
    "a checkpoint file",
    "a model folder",
    "a pretrained name (ganzoo models --pretrained)",
)
#: What ``ganzoo.from_pretrained`` takes: one set of weights, no checkpoints to choose from.
FOLDER_TARGETS = MODEL_TARGETS[2:]
#: How a loaded target that is not a run directory is named when --checkpoint is given.
SINGLE = {
    "checkpoint": "one checkpoint file",
    "folder": "a model folder, one set of weights",
    "pretrained": "a pretrained model, one set of weights",
}


@dataclass(frozen=True)
class Target:
    """A TARGET as given, and what it names."""

    kind: str  # run | checkpoint | folder | pretrained | missing | other
    given: str
    path: Path

    @property
    def names_a_model(self) -> bool:
        """Whether it names what ``load_run`` loads (an ``other`` path is only tried as one)."""
        return self.kind in ("run", "checkpoint", "folder", "pretrained")

    @property
    def is_model_folder(self) -> bool:
        """A model folder, or a pretrained name (which names one): weights without a run."""
        return self.kind in ("folder", "pretrained")


def what(target: str | Path) -> Target:
    """What ``target`` names, by the rule above; never raises."""
    path = Path(target)
    given = str(target)
    if path.is_dir():
        if (path / CONFIG).is_file() and (
            not (path / "run.json").exists() or is_model_folder(path)
        ):
            return Target("folder", given, path)
        if (path / "run.json").exists() or (path / "checkpoints").is_dir():
            return Target("run", given, path)
        return Target("other", given, path)
    if path.is_file() and path.suffix in (".pt", ".pth"):
        return Target("checkpoint", given, path)
    if path.exists():
        return Target("other", given, path)
    return Target("pretrained" if is_pretrained_name(given) else "missing", given, path)


def locate(target: str | Path | Target) -> tuple[Path, str | None]:
    """(folder, sha256 its weights must have, or None) of a model folder or a registered name."""
    from .. import plugins

    found = target if isinstance(target, Target) else what(target)
    if found.kind == "missing":
        raise missing(found, FOLDER_TARGETS)
    if found.kind != "pretrained":
        if is_model_folder(found.path):
            return found.path, None
        raise GanzooError(
            f"{found.given!r} is not a model folder (it needs config.json and model.safetensors, "
            "as written by ganzoo export)"
        )
    entry = plugins.lookup(HOOK, found.given, "pretrained model")  # names clashing plugins
    if not is_model_folder(Path(entry.obj)):
        raise GanzooError(
            f"pretrained model {found.given!r} (plugin {entry.plugin!r}) is missing its files at "
            f"{entry.obj}; reinstall the plugin"
        )
    return Path(entry.obj), entry.extra.get("sha256")


def missing(
    found: Target, kinds: tuple[str, ...] = MODEL_TARGETS, also: tuple[str, ...] = ()
) -> GanzooError:
    """No such path nor name: what the caller takes (``also``: its own inputs, e.g. samples)."""
    return GanzooError(
        f"{found.given!r} does not exist; give {_one_of(kinds + also)}.{_close(found)}"
    )


def not_a_target(found: Target, also: tuple[str, ...] = ()) -> GanzooError:
    """A path that exists but is nothing the caller can use."""
    return GanzooError(f"cannot use {found.given!r}: expected {_one_of(MODEL_TARGETS + also)}")


def single_checkpoint(found: Target, described: str | None = None) -> GanzooError:
    """``--checkpoint STEP`` given for a TARGET that has no checkpoints to choose from."""
    it_is = described or SINGLE.get(found.kind, "not a run directory")
    return GanzooError(
        f"--checkpoint applies to run directories; {found.given!r} is {it_is} (drop --checkpoint)"
    )


def _one_of(kinds: tuple[str, ...]) -> str:
    return f"{', '.join(kinds[:-1])} or {kinds[-1]}" if len(kinds) > 1 else kinds[0]


def _close(found: Target) -> str:
    """A mistyped pretrained name gets suggestions."""
    return did_you_mean(found.given, list(pretrained_models()), cutoff=0.6)
