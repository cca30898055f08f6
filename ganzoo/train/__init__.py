"""The shared trainer: one loop, device placement, AMP, EMA, checkpoints and resume for every family.

``trainer`` is the loop, ``checkpoint`` the atomic on-disk format, ``ema`` the
weight average, ``batches`` the resumable data order, ``logger`` progress and
metrics, ``run`` the self-describing run directory.
"""
