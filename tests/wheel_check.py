"""Run by test.sh with the interpreter of a fresh venv that installed the wheel, from outside the
checkout: cs_futures imports from site-packages, on the engine the wheel promises ($WHEEL_ENGINE),
with the node program bundled, and a thread pool and a process pool run; on the native engine, through
the extension module cs_futures._engine (the stable-ABI file) without ever importing ctypes. Exits non-zero (an
AssertionError's traceback) when any of that does not hold."""
import os
import sys

import cs_futures

assert "site-packages" in cs_futures.__file__, cs_futures.__file__
assert cs_futures.ENGINE == os.environ["WHEEL_ENGINE"], cs_futures.ENGINE
assert os.path.isfile(os.path.join(os.path.dirname(cs_futures.__file__), "_dotnet", "node", "Futures.Cluster.Node.dll"))
with cs_futures.ThreadPoolExecutor(2) as pool:
    assert list(pool.map(abs, [-1, -2])) == [1, 2]
with cs_futures.ProcessPoolExecutor(1) as pool:
    assert pool.submit(abs, -3).result(timeout=60) == 3
if cs_futures.ENGINE == "native":
    from cs_futures import _engine
    assert _engine.__file__.endswith(os.path.join("site-packages", "cs_futures", "_engine.abi3.so")), _engine.__file__
    assert "ctypes" not in sys.modules, "the native engine imported ctypes"
