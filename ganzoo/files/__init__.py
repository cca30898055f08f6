"""Files ganzoo writes and files it reads from elsewhere.

``write``: every file ganzoo writes appears whole or not at all (a temp file
renamed), and a failed write says what is intact and what to do. ``read``: a
path named by a board, a result or a run is read only inside the folder it
belongs to, as a regular file of the expected kind, so no local file can leak
into a page or a model folder. Both are leaves: they import nothing of ganzoo
but its errors.
"""
