"""Pretrained models, the sharing side: a run's checkpoint exported as a model folder.

``export`` (``ganzoo export``: a run's checkpoint as a folder, its results
scored again when stored in a lower precision), ``write`` (the folder written
atomically), ``card`` (README.md with the hub's YAML header) and ``asrun`` (a
model folder standing on a leaderboard).  Reading a folder, checking it and
the names plugins register are the load layer's (``ganzoo.load``).
"""
