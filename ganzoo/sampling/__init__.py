"""Sampling: drawing images from a model, and writing them to files.

``draw`` is the one path every caller samples through (``draw_samples``: eval
mode, the sample contract, a conditional model's labels, sampling-time
settings applied for one call and recorded for the protocol). ``files`` is
``ganzoo sample`` as a library call (``write_samples`` with ``SampleOptions``),
which imports no torch until it samples. This face imports neither, so the
command line can read ``SampleOptions`` without torch: import from the modules.
"""
