"""The evaluator: sample, extract features once, let torch-fidelity compute every metric.

Modules, one job each: ``extractors`` (what a feature extractor is and how it
is found), ``inception`` (resolving InceptionV3 weights, offline included),
``refcache`` (the verified cache of reference statistics), ``sources`` (turning
a run, checkpoint, folder or ``.npz`` into uint8 images), ``fidelity`` (the one
torch-fidelity call), ``protocol`` (what a number means, recorded as JSON) and
``api`` (``ganzoo.evaluate``).  Nothing here is imported by ``ganzoo --help``.
"""
