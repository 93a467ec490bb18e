"""Serve ``concurrent.futures`` (and its submodules) from cs_futures in this process."""
import sys

_NAMES = ("_base", "thread", "process")
_saved = None


def install():
    """Make ``import concurrent.futures`` (and ``_base``, ``thread``, ``process``) give cs_futures.

    Affects the whole process, third-party libraries included, from the next import on: call it
    before they import ``concurrent.futures``. Calling it again does nothing.

    Raises:
        RuntimeError: executors of the standard library already run threads or processes in this
            process; they would keep running outside cs_futures.
    """
    global _saved
    if _saved is not None:
        return
    import concurrent
    import concurrent.futures as std
    from concurrent.futures import process as std_process, thread as std_thread
    started = len(std_thread._threads_queues) + len(getattr(std_process, "_threads_wakeups", ()))
    if started:
        raise RuntimeError(
            "cs_futures.install(): %d standard-library executor(s) already run workers in this "
            "process; call install() before any concurrent.futures executor is created" % started)
    import cs_futures
    from cs_futures import _base, process, thread
    _saved = {name: sys.modules.get(name) for name in
              ["concurrent.futures"] + ["concurrent.futures." + n for n in _NAMES]}
    _saved["attribute"] = std
    sys.modules["concurrent.futures"] = cs_futures
    for name, module in zip(_NAMES, (_base, thread, process)):
        sys.modules["concurrent.futures." + name] = module
    concurrent.futures = cs_futures


def uninstall():
    """Undo :func:`install`: ``concurrent.futures`` is the standard library's again. Objects created
    meanwhile keep working. Calling it when not installed does nothing."""
    global _saved
    if _saved is None:
        return
    import concurrent
    saved, _saved = _saved, None
    concurrent.futures = saved.pop("attribute")
    for name, module in saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


def installed():
    """True while :func:`install` is in effect."""
    return _saved is not None
