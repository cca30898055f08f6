"""The load layer: what a TARGET names, and loading it into one ``LoadedRun``.

A TARGET is a run directory, a checkpoint file, a model folder (``ganzoo
export``) or a pretrained name a plugin registered.  ``ganzoo sample``,
evaluation, export, the leaderboards and ``ganzoo models --pretrained`` ask
here; nothing else decides.

``target`` (what a TARGET names, and every message for one that names nothing),
``run`` (``ganzoo.load_run``), ``checkpoint`` (a model rebuilt from a checkpoint),
``pretrained`` (``ganzoo.from_pretrained``), ``loaded`` (``LoadedRun``),
``folder`` (a model folder's layout and reading it, never unpickling),
``fields``, ``header`` and ``fit`` (a folder's config, weights header and
shapes checked before anything is built from it) and ``registry`` (the names
plugins register).
"""
