"""Serve ``concurrent.futures`` (and its submodules) from cs_futures in this process."""
import sys

_NAMES = ("_base", "thread", "process", "interpreter")
_saved = None


def _stdlib_extras(std):
    """The running standard library's other submodules of ``concurrent.futures`` (3.14:
    ``interpreter``), imported now, while ``concurrent.futures.thread`` and the others are still the
    standard library's: a module such as ``interpreter`` subclasses the standard thread pool's
    internals (``from . import thread``), so it must be bound to the real modules, never to
    cs_futures'. A submodule that does not import on this build (``interpreter`` without the
    ``_interpreters`` module) is left out, as the standard library leaves it out of ``__all__``."""
    import importlib
    import pkgutil
    extras = {}
    for info in pkgutil.iter_modules(std.__path__):
        if info.name in _NAMES:
            continue
        try:
            extras[info.name] = importlib.import_module("concurrent.futures." + info.name)
        except ImportError:
            continue
    return extras


def install():
    """Make ``import concurrent.futures`` (and ``_base``, ``thread``, ``process``,
    ``interpreter``) give cs_futures, on every Python version (``InterpreterPoolExecutor`` is
    cs_futures' on 3.14 too).

    The standard library's other submodules, if a later version adds some, stay the standard
    library's, bound to its real modules, and remain importable under their names.

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
    from cs_futures import _base, process, thread, interpreter
    extras = _stdlib_extras(std)
    _saved = {name: sys.modules.get(name) for name in
              ["concurrent.futures"] + ["concurrent.futures." + n for n in _NAMES]}
    _saved["attribute"] = std
    _saved["extras"] = [name for name in extras if name not in vars(cs_futures)]
    sys.modules["concurrent.futures"] = cs_futures
    for name, module in zip(_NAMES, (_base, thread, process, interpreter)):
        sys.modules["concurrent.futures." + name] = module
    for name in _saved["extras"]:
        # ``import concurrent.futures.interpreter`` binds the name through the parent's attribute.
        setattr(cs_futures, name, extras[name])
    concurrent.futures = cs_futures


def uninstall():
    """Undo :func:`install`: ``concurrent.futures`` is the standard library's again. Objects created
    meanwhile keep working. Calling it when not installed does nothing."""
    global _saved
    if _saved is None:
        return
    import concurrent
    import cs_futures
    saved, _saved = _saved, None
    concurrent.futures = saved.pop("attribute")
    for name in saved.pop("extras"):
        vars(cs_futures).pop(name, None)
    for name, module in saved.items():
        if module is None:
            sys.modules.pop(name, None)
        else:
            sys.modules[name] = module


def installed():
    """True while :func:`install` is in effect."""
    return _saved is not None
