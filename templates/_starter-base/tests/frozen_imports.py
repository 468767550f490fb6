"""A pytest hook every starter's conftest.py imports: once collection has imported torch,
Lightning and the rest, their objects leave the cycle collector's sight.

Those objects live until the session ends, yet each full collection during the tests
walks them again, and the interpreter walks them once more at exit. Frozen
(``gc.freeze``), the yield-model suite ended about 2.7 s sooner in 38 s, most of it at
exit. Objects created by the tests are collected as before.
"""

import gc


def pytest_collection_finish(session):
    gc.collect()  # what is garbage now is freed, not kept for good
    gc.freeze()
