"""Many processes through torch.distributed: who this process is, and what ranks exchange.

``ganzoo train`` and ``ganzoo eval`` run unchanged under ``torchrun`` (one
machine or several): ``setup`` reads the launcher's environment and joins the
process group, and ``World`` carries every collective the trainer and the
evaluator need.  Without the launcher's variables ``World()`` is a single
process and every collective is a no-op, so the code paths are the same.
``launch`` starts the same command on N local processes (``--nproc``).
See docs/distributed.md.
"""

from .world import World, current, setup

__all__ = ["World", "current", "setup"]
