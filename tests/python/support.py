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


# ---------------------------------------------------------------------------------------------
# Added for the per-area suite (test_future, test_thread_pool, test_wait, test_as_completed,
# test_process_lifecycle, test_loader).

WAIT = 10  # seconds: the bound on any single wait inside a test; a bug fails instead of hanging


def run_child(args, env=None, timeout=30, **kwargs):
    """Run ``sys.executable *args`` in its own session; return (returncode, stdout, stderr).

    On timeout the whole process group is killed (children forked by the script included, which
    would otherwise keep the pipes open) and the test fails with what was printed so far."""
    import signal
    proc = subprocess.Popen([sys.executable, *args], env=env or child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kwargs)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err = proc.communicate()
        raise AssertionError("child did not stop within %s s\nstdout:\n%s\nstderr:\n%s"
                             % (timeout, out, err)) from None
    return proc.returncode, out, err


def kill_group(proc):
    """SIGKILL a child started with start_new_session=True, and everything it forked."""
    import signal
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
