"""``labhooks clean-large``: strip blobs over a size from every ref, with a backup first.

One idea per module: preflight (refuse early), plan (what goes), backup (bundle),
pins (refs a backend would mishandle), held (big files at HEAD), backends (the
rewriting tools), bfg (what the BFG needs and leaves), children (tools stopped with
labhooks), verify (judge the result), publish (the push that cannot hurt a
collaborator), cleaner (the numbered steps, in order).
"""
