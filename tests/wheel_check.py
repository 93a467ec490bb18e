"""Run by test.sh with the interpreter of a fresh venv that installed the wheel, from outside the
checkout: cs_futures imports from site-packages, on the engine the wheel promises ($WHEEL_ENGINE),
with the node program bundled and the worker package _cs_futures_worker installed beside it (the
process pool's workers import it from site-packages, and never cs_futures), and a thread pool and a
process pool run; on the native engine, through the extension module cs_futures._engine (the
stable-ABI file) without ever importing ctypes. Exits non-zero (an AssertionError's traceback) when
any of that does not hold."""
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
    probe = ("[__import__('sys').modules['_cs_futures_worker'].__file__, "
             "sorted(name for name in __import__('sys').modules if name.startswith('cs_futures'))]")
    worker_file, loaded = pool.submit(eval, probe).result(timeout=60)
import _cs_futures_worker
assert _cs_futures_worker.__file__ == os.path.join(os.path.dirname(os.path.dirname(cs_futures.__file__)),
                                                   "_cs_futures_worker", "__init__.py"), _cs_futures_worker.__file__
assert worker_file == _cs_futures_worker.__file__, worker_file
assert loaded == [], loaded
for name in ("__main__", "_worker", "_serialize", "_interpreter_calls", "_host"):
    assert os.path.isfile(os.path.join(os.path.dirname(_cs_futures_worker.__file__), name + ".py")), name
if cs_futures.ENGINE == "native":
    from cs_futures import _engine
    assert _engine.__file__.endswith(os.path.join("site-packages", "cs_futures", "_engine.abi3.so")), _engine.__file__
    assert "ctypes" not in sys.modules, "the native engine imported ctypes"
