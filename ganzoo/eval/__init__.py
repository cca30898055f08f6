"""The evaluator: sample, extract features once, let torch-fidelity compute every metric.

Modules, one job each: ``request`` (the options, ``EvalRequest``), ``extractors``
(what a feature extractor is and how it is found), ``safeload`` (weights checked
before torch-fidelity loads them), ``refcache`` (the real features, cached as
safetensors), ``sources`` (turning a run, checkpoint, model folder, image folder
or ``.npz`` into uint8 images), ``plan`` (counts, checked up front),
``fidelity`` (features by torch-fidelity's network, numbers by its metric
functions), ``protocol`` (what a number means, recorded as JSON) and ``api``
(``ganzoo.evaluate``).  Nothing here is imported by ``ganzoo --help``.
"""
