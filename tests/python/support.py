"""Shared by the tests: where the package is, and how to run a child interpreter with it."""
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE_PATH = os.path.join(ROOT, "python")
TIMEOUT = 60  # seconds: long enough for any correct run, so that a bug fails instead of hanging


def child_env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = PACKAGE_PATH + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_python(*args, env=None, **kwargs):
    """Run sys.executable with the package importable; return the CompletedProcess."""
    return subprocess.run([sys.executable, *args], env=env or child_env(), capture_output=True,
                          text=True, timeout=TIMEOUT, **kwargs)


def completed(result=None, exception=None):
    """A cs_futures Future finished with a result or an exception."""
    from cs_futures import Future
    future = Future()
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)
    return future
