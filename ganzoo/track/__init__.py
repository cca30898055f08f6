"""Trackers: where a run's numbers go besides the run directory (TensorBoard, MLflow, a plugin's).

* ``base``: the contract a tracker implements (``ganzoo.Tracker``) and what it is given
  (``TrackerRun``).
* ``jsonl``: ganzoo's own tracker, ``metrics.jsonl`` in the run directory; always on.
* ``fanout``: the trackers of one run, named by ``--tracker``, checked before training and
  called together; a tracker that fails is reported once and dropped, training goes on.
"""

from .base import Tracker, TrackerRun

__all__ = ["Tracker", "TrackerRun"]
