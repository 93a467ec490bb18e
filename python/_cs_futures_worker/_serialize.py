"""Pickling for the process pool: functions and classes of the main script travel by value.

A worker never runs the main script, so ``__main__.f`` cannot be looked up there by name. When
``cloudpickle`` is importable it does the whole job. Otherwise a ``pickle.Pickler`` whose
``reducer_override`` sends functions and classes defined in ``__main__`` as their code
(``marshal``) and the globals they use; everything else pickles as usual. In the worker they are
rebuilt in a fresh ``__main__`` namespace, so that results referring to them pickle back by name.

This module runs in worker processes and interpreters too: standard library only, no .NET. It uses
the C pickler (``_pickle``: ``pickle.Pickler`` is its class) rather than ``pickle.py``, whose imports
(``re``, ``struct``) would slow the start of an interpreter pool's workers.
"""
import _pickle
import copyreg
import io
import marshal
import sys
import types

try:  # optional: installed for CPython 3.11 on the CI machine, not for 3.12/3.13
    import cloudpickle as _cloudpickle
except ImportError:
    _cloudpickle = None

PROTOCOL = -1  # the highest this Python has (pickle.HIGHEST_PROTOCOL)
_MAIN = "__main__"


class _EmptyCell:
    """Marks a closure cell that had no value yet (pickled by reference, so identity holds)."""


def _cloud_pickler():
    """cloudpickle's pickler, except for functions of ``__main__``: those are rebuilt in the
    worker's ``__main__`` namespace (ours), as CPython's workers have them, so that an initializer
    setting a global is seen by the tasks (cloudpickle gives each function a globals dict of its own)."""
    class CloudMainPickler(_cloudpickle.CloudPickler):
        def reducer_override(self, obj):
            if type(obj) is types.FunctionType and obj.__module__ == _MAIN:
                return _reduce_function(obj)
            return super().reducer_override(obj)
    return CloudMainPickler


def dumps(obj, reducers=None):
    """Return the pickle of *obj*, with ``__main__`` functions and classes by value.

    *reducers* (type -> reduce function) are used before the usual ones; the process pool passes
    multiprocessing's own (``ForkingPickler``'s), so that its locks, queues and shared values
    pickle as they do for CPython's spawned workers.
    """
    cls = _CloudPickler if _cloudpickle is not None else _MainByValuePickler
    if reducers:
        cls = _with_reducers(cls, reducers)
    buffer = io.BytesIO()
    cls(buffer, protocol=PROTOCOL).dump(obj)
    return buffer.getvalue()


_subclasses = {}


def _with_reducers(cls, reducers):
    """A subclass of *cls* whose dispatch table adds *reducers* (the C pickler reads the table
    when it is created; a plain dict keeps lookups fast). Rebuilt when a table grows."""
    key = (cls, id(reducers))
    sizes = (len(reducers), len(copyreg.dispatch_table))
    cached = _subclasses.get(key)
    if cached is None or cached[0] != sizes:
        table = dict(cls.dispatch_table)
        table.update(reducers)
        cached = sizes, type(cls.__name__, (cls,), {"dispatch_table": table})
        _subclasses[key] = cached
    return cached[1]


def dumps_result(obj):
    """Return the pickle of a worker's reply. With cloudpickle, classes that arrived by value go
    back under their tracking id (so the parent gets its own class); without it, they go back by
    name, and the parent finds them in its ``__main__``."""
    if _cloudpickle is not None:
        return _cloudpickle.dumps(obj, protocol=PROTOCOL)
    return _pickle.dumps(obj, PROTOCOL)


loads = _pickle.loads


class _MainByValuePickler(_pickle.Pickler):
    dispatch_table = copyreg.dispatch_table

    def reducer_override(self, obj):
        if type(obj) is types.FunctionType and obj.__module__ == _MAIN:
            return _reduce_function(obj)
        if type(obj) is type and obj.__module__ == _MAIN:
            return _reduce_class(obj)
        if type(obj) is types.ModuleType and obj.__name__ != _MAIN and obj.__name__ in sys.modules:
            import importlib
            return importlib.import_module, (obj.__name__,)
        return NotImplemented


class _ShareablePickler(_pickle.Pickler):
    """Pickles a call for an InterpreterPoolExecutor on Python 3.14+, with CPython 3.14's rules for
    what crosses into another interpreter (``concurrent.interpreters``): a function without state
    (``is_stateless``) travels as its code and runs in the other interpreter's ``__main__``; any
    other object must pickle by name as usual (a closure, a local class or an instance of one
    cannot). Beyond CPython, as for the process pool: functions and classes of ``__main__``
    travel by value."""

    dispatch_table = copyreg.dispatch_table

    def reducer_override(self, obj):
        if type(obj) is types.FunctionType:
            if is_stateless(obj):
                return _reduce_stateless_function(obj)
            if obj.__module__ == _MAIN and "<locals>" not in obj.__qualname__:
                return _reduce_function(obj)
            return NotImplemented
        if type(obj) is type and obj.__module__ == _MAIN and "<locals>" not in obj.__qualname__:
            return _reduce_class(obj)
        if type(obj) is types.ModuleType and obj.__name__ != _MAIN and obj.__name__ in sys.modules:
            import importlib
            return importlib.import_module, (obj.__name__,)
        return NotImplemented


def dumps_shareable(obj):
    """Return the pickle of *obj* for another interpreter of this process, with CPython 3.14's rules
    (see ``_ShareablePickler``); raise what pickling raised for an object that cannot cross."""
    buffer = io.BytesIO()
    _ShareablePickler(buffer, protocol=PROTOCOL).dump(obj)
    return buffer.getvalue()


_stateless_cache = None


def is_stateless(fn):
    """Whether CPython 3.14 sends the function *fn* to another interpreter as its code alone
    (``_PyFunction_VerifyStateless``): no closure, no defaults, and every global name that its code
    loads is a builtin that its module does not shadow."""
    if fn.__closure__ is not None or fn.__defaults__ or fn.__kwdefaults__:
        return False
    code = fn.__code__
    if code.co_freevars:
        return False
    global _stateless_cache
    if _stateless_cache is None:
        import weakref
        _stateless_cache = weakref.WeakKeyDictionary()
    names = _stateless_cache.get(code)
    if names is None:
        import dis
        names = _stateless_cache[code] = frozenset(
            ins.argval for ins in dis.get_instructions(code) if ins.opname == "LOAD_GLOBAL")
    if not names:
        return True
    namespace, builtins = fn.__globals__, fn.__builtins__
    return all(name not in namespace and name in builtins for name in names)


def _reduce_stateless_function(fn):
    """A stateless function as CPython 3.14 sends it: its code, to run in the other interpreter's
    ``__main__`` (no globals, defaults, closure or attributes travel with it)."""
    state = {"globals": {}, "defaults": None, "kwdefaults": None, "dict": None, "doc": fn.__doc__,
             "annotations": None, "cells": ()}
    args = (marshal.dumps(fn.__code__), fn.__name__, fn.__qualname__, 0)
    return _make_function, args, state, None, None, _set_function_state


def _global_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _reduce_function(fn):
    code = fn.__code__
    namespace = fn.__globals__
    used = {name: namespace[name] for name in _global_names(code)
            if name in namespace and name != "__builtins__"}
    cells = tuple(_cell_value(c) for c in fn.__closure__ or ())
    state = {
        "globals": used,
        "defaults": fn.__defaults__,
        "kwdefaults": fn.__kwdefaults__,
        "dict": fn.__dict__ or None,
        "doc": fn.__doc__,
        "annotations": getattr(fn, "__annotations__", None) or None,
        "cells": cells,
    }
    args = (marshal.dumps(code), fn.__name__, fn.__qualname__, len(cells))
    return _make_function, args, state, None, None, _set_function_state


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return _EmptyCell


def _reduce_class(cls):
    skip = {"__dict__", "__weakref__"}
    attrs = {k: v for k, v in cls.__dict__.items() if k not in skip}
    slots = attrs.pop("__slots__", None)
    if isinstance(slots, str):
        slots = (slots,)
    for name in slots or ():
        attrs.pop(name, None)  # member descriptors are recreated by type()
    args = (cls.__name__, cls.__qualname__, cls.__bases__, slots)
    return _make_class, args, attrs, None, None, _set_class_state


def _main_namespace():
    main = sys.modules.get(_MAIN)
    if main is None:  # pragma: no cover - every interpreter has one
        main = sys.modules[_MAIN] = types.ModuleType(_MAIN)
    return main.__dict__


def _make_function(code_bytes, name, qualname, ncells):
    namespace = _main_namespace()
    namespace.setdefault("__builtins__", __builtins__)
    closure = tuple(types.CellType() for _ in range(ncells)) or None
    fn = types.FunctionType(marshal.loads(code_bytes), namespace, name, None, closure)
    fn.__qualname__ = qualname
    fn.__module__ = _MAIN
    if "." not in qualname:
        namespace[name] = fn
    return fn


def _set_function_state(fn, state):
    fn.__globals__.update(state["globals"])
    fn.__defaults__ = state["defaults"]
    fn.__kwdefaults__ = state["kwdefaults"]
    fn.__doc__ = state["doc"]
    if state["dict"]:
        fn.__dict__.update(state["dict"])
    if state["annotations"]:
        fn.__annotations__ = state["annotations"]
    for cell, value in zip(fn.__closure__ or (), state["cells"]):
        if value is not _EmptyCell:
            cell.cell_contents = value
    return fn


def _make_class(name, qualname, bases, slots):
    namespace = {"__module__": _MAIN, "__qualname__": qualname}
    if slots is not None:
        namespace["__slots__"] = slots
    cls = type(name, bases, namespace)
    if "." not in qualname:
        _main_namespace()[name] = cls
    return cls


def _set_class_state(cls, attrs):
    for key, value in attrs.items():
        try:
            setattr(cls, key, value)
        except (AttributeError, TypeError):
            pass  # read-only type attributes (e.g. __doc__ of some metaclasses)
    return cls



# What cannot cross machines (a cluster task): refused with a clear TypeError instead of pickled.

def _refuse(kind):
    def reduce(obj):
        raise TypeError(
            "%s cannot be sent to a cluster: it refers to this machine's kernel (a file "
            "descriptor or a named semaphore), which other nodes cannot reach; pass the data "
            "itself, or use ProcessPoolExecutor for work that needs it" % kind)
    return reduce


def _machine_bound_reducers_table():
    """Reducers that refuse what cannot cross machines (multiprocessing's own would hand out file
    descriptors through a descriptor server, or semaphores by name)."""
    import io
    import socket
    from multiprocessing import connection, synchronize
    reducers = {
        connection.Connection: _refuse("a multiprocessing Connection (a pipe)"),
        socket.socket: _refuse("a socket"),
        synchronize.SemLock: _refuse("a multiprocessing lock or semaphore"),
        io.FileIO: _refuse("an open file"),
        io.BufferedReader: _refuse("an open file"),
        io.BufferedWriter: _refuse("an open file"),
        io.BufferedRandom: _refuse("an open file"),
        io.TextIOWrapper: _refuse("an open file"),
    }
    for name in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Barrier"):
        reducers[getattr(synchronize, name)] = _refuse("a multiprocessing %s" % name)
    try:
        from multiprocessing import shared_memory
        reducers[shared_memory.SharedMemory] = _refuse("a SharedMemory block")
    except ImportError:
        pass
    from multiprocessing import queues
    for name in ("Queue", "SimpleQueue", "JoinableQueue"):
        reducers[getattr(queues, name)] = _refuse("a multiprocessing %s" % name)
    return reducers


_machine_bound = None


def machine_bound_reducers():
    """Reducers for ``dumps`` that refuse objects tied to this machine: multiprocessing's own would
    hand their file descriptors out through a descriptor server, or their semaphores by name."""
    global _machine_bound
    if _machine_bound is None:
        _machine_bound = _machine_bound_reducers_table()
    return _machine_bound


_CloudPickler = _cloud_pickler() if _cloudpickle is not None else None
