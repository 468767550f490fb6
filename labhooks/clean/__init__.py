"""``labhooks clean-large``: strip blobs over a size from every ref, with a backup first.

One idea per module: preflight (refuse early), plan (what goes), backup (bundle),
pins (refs a backend would mishandle), held (big files at HEAD), backends (the
rewriting tools), verify (judge the result), cleaner (the order of it all).
"""
