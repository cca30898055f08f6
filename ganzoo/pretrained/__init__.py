"""Pretrained models: folders in the ecosystem's format, exported from runs and loaded by name.

``folder`` (the layout, atomic write, safe read), ``card`` (README.md with the
hub's YAML header), ``export`` (a run's checkpoint as a folder), ``load``
(``ganzoo.from_pretrained``) and ``registry`` (names that plugins register).
"""
