"""Run under python -m cs_futures after tests/python/test_versions.py patched a newer-looking
standard library (a FakePoolExecutor in a fakepool submodule, as 3.14's InterpreterPoolExecutor)."""
from concurrent.futures import FakePoolExecutor, ThreadPoolExecutor
import concurrent.futures.fakepool
import concurrent.futures as cf

print(cf.__name__, ThreadPoolExecutor.__module__)
base = FakePoolExecutor.__mro__[1]
print(base.__module__, base is not ThreadPoolExecutor)
print(concurrent.futures.fakepool.FakePoolExecutor is FakePoolExecutor, cf.FakePoolExecutor is FakePoolExecutor)
with FakePoolExecutor(1) as executor:
    print(executor.submit(abs, -2).result(timeout=30))
print("FakePoolExecutor" in cf.__all__, "FakePoolExecutor" in dir(cf))
from concurrent.futures.thread import FakeContext
print(FakeContext.__name__ == "FakeContext")
