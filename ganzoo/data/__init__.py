"""Datasets: the contract (``base``), the cache location (``cache``) and lookup by name (``registry``).

Concrete datasets come from plugins through ``register_datasets``; the
first-party ones live in ``plugins/ganzoo_datasets``.  This package imports
nothing heavy so that ``ganzoo --help`` stays fast.
"""
