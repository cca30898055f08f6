"""``mlflow``: the run as an MLflow run, in the store ``MLFLOW_TRACKING_URI`` names.

Without ``MLFLOW_TRACKING_URI`` the store is ``sqlite:///mlruns.db`` in the
working folder (MLflow's own default store is a SQLite database now); the
absolute URI is kept in ``RUN/trackers/mlflow.json`` with the MLflow run id,
so a resumed run and a later ``ganzoo eval`` log into the same MLflow run
wherever they are started from.  Parameters are run.json, flattened; metrics
are logged at their training step; sample grids and result files are
artifacts.  A resumed run skips the steps the interrupted process had already
logged: training reproduces them exactly, so MLflow keeps one value per step.
"""

from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import ganzoo

from .tensorboard_tracker import numbers

#: MLflow's limits: parameters per batch call, and characters of a parameter value.
PARAMS_PER_CALL = 100
MAX_PARAM = 500
EXPERIMENT = "ganzoo"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI``, else a SQLite store in the working folder (absolute)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Path.cwd().resolve()}/mlruns.db"


class MlflowTracker(ganzoo.Tracker):
    """One MLflow run per ganzoo run, continued across resumes and evaluations."""

    @classmethod
    def check(cls) -> None:
        try:
            import mlflow  # noqa: F401
        except ImportError:
            raise ganzoo.GanzooError(
                "tracker 'mlflow' needs MLflow: pip install 'ganzoo[mlflow]'"
            ) from None
        problem = unreachable(tracking_uri())
        if problem:
            raise ganzoo.GanzooError(problem)

    def __init__(self, run: ganzoo.TrackerRun) -> None:
        super().__init__(run)
        from mlflow.tracking import MlflowClient

        _quiet_logs()
        state = run.state
        self.uri = state.get("tracking_uri") or tracking_uri()
        self.client = MlflowClient(self.uri)
        self.run_id = state.get("run_id")
        resumed = run.resumed_from is not None
        #: Training owns the run's status; ``ganzoo eval`` (not resumed) adds results only.
        self.training = resumed or not self.run_id
        if not self.run_id:
            self.run_id = self._create(run)
        elif resumed:
            self.client.update_run(self.run_id, status="RUNNING")
        self.logged = int(state.get("last_step", -1)) if resumed else -1
        self.last_step = max(int(state.get("last_step", -1)), -1)
        self._save()

    def _create(self, run: ganzoo.TrackerRun) -> str:
        from mlflow.entities import Param

        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or EXPERIMENT
        experiment = self.client.get_experiment_by_name(name)
        experiment_id = (
            experiment.experiment_id
            if experiment
            else self.client.create_experiment(name, artifact_location=_artifacts(self.uri))
        )
        tags = {"ganzoo.run_dir": str(run.dir.resolve()), "ganzoo.model": run.config.get("model")}
        created = self.client.create_run(
            experiment_id, run_name=run.dir.name, tags={k: str(v) for k, v in tags.items()}
        )
        params = [Param(k, v) for k, v in flatten(run.config).items()]
        for start in range(0, len(params), PARAMS_PER_CALL):
            chunk = params[start : start + PARAMS_PER_CALL]
            self.client.log_batch(created.info.run_id, params=chunk)
        return created.info.run_id

    def _save(self) -> None:
        state = {"run_id": self.run_id, "tracking_uri": self.uri, "last_step": self.last_step}
        self.run.save_state(state)

    def log_scalars(self, step: int, scalars: dict[str, float]) -> None:
        if step <= self.logged:  # logged before the interruption, the same values
            return
        self._metrics(step, numbers(scalars))
        if step > self.last_step:
            self.last_step = step
            self._save()

    def _metrics(self, step: int, values: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [Metric(key, value, now, step) for key, value in values.items()]
        if metrics:
            self.client.log_batch(self.run_id, metrics=metrics)

    def log_image(self, step: int, tag: str, path: Path) -> None:
        if step <= self.logged:
            return
        self.client.log_artifact(self.run_id, str(path), artifact_path=tag)

    def log_results(self, step: int, results: dict[str, Any], path: Path | None) -> None:
        if step <= self.logged:  # an in-loop result the interrupted process logged
            return
        values = {f"results/{k}": v for k, v in numbers(results.get("metrics")).items()}
        self._metrics(step, values)
        if path is not None:
            self.client.log_artifact(self.run_id, str(path), artifact_path="eval")

    def finish(self) -> None:
        if self.training:
            self.client.set_terminated(self.run_id, "FINISHED")


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"options": {"steps": 600}}`` -> ``{"options.steps": "600"}``, values cut to MLflow's
    limit."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)[:MAX_PARAM]
    return flat


def unreachable(uri: str) -> str | None:
    """Why the store at ``uri`` cannot be used, in one line, or None; asked before training."""
    if uri.startswith("sqlite:///"):
        folder = Path(uri[len("sqlite:///") :]).expanduser().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            return (
                f"MLflow store {uri}: the folder {str(folder)!r} does not exist or is not "
                "writable; create it or set MLFLOW_TRACKING_URI to another store"
            )
        return None
    if uri.startswith(("http://", "https://")):
        try:
            urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5).close()
        except urllib.error.HTTPError:
            return None  # a server answered
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            return (
                f"MLFLOW_TRACKING_URI {uri} is unreachable ({reason}); start the MLflow server "
                "or unset MLFLOW_TRACKING_URI to log to sqlite:///mlruns.db here"
            )
    return None


def _artifacts(uri: str) -> str | None:
    """A SQLite store's artifacts beside its database (``mlartifacts/``), not in whatever folder
    is current when the experiment is made; other stores keep their own default."""
    if not uri.startswith("sqlite:///"):
        return None
    return (Path(uri[len("sqlite:///") :]).expanduser().parent / "mlartifacts").resolve().as_uri()


def _quiet_logs() -> None:
    """MLflow's SQLite store announces its schema migrations on first use; keep stderr clean."""
    for name in ("alembic", "mlflow"):
        logging.getLogger(name).setLevel(logging.WARNING)
