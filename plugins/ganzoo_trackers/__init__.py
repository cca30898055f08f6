"""ganzoo's first-party trackers: TensorBoard and MLflow, each behind its own pip extra.

Registered like any third-party tracker (``register_trackers``); the libraries
are imported only when a run uses the tracker, so ``ganzoo --help`` and runs
without ``--tracker`` never pay for them.  ``jsonl`` (metrics.jsonl) is
ganzoo's own and always on.
"""

from __future__ import annotations

import ganzoo

from .mlflow_tracker import MlflowTracker
from .tensorboard_tracker import TensorBoardTracker


@ganzoo.hookimpl
def register_trackers(register):
    register(
        "tensorboard",
        TensorBoardTracker,
        description="TensorBoard event files in RUN/tensorboard/: scalars, sample grids, results.",
        extra="tensorboard",
    )
    register(
        "mlflow",
        MlflowTracker,
        description=(
            "An MLflow run (MLFLOW_TRACKING_URI, else sqlite:///mlruns.db in the working "
            "folder): run.json as parameters, scalars, sample grids and results as artifacts."
        ),
        extra="mlflow",
    )
