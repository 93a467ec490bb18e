"""The worker side of cs_futures, standard library only.

``_worker`` is the process pools' worker process, ``_serialize`` pickles the calls (functions of
``__main__`` by value), ``_interpreter_calls`` carries a call into an interpreter pool's
subinterpreter and its reply back, and ``_host`` holds what a .NET host that embeds Python needs
(Futures.Interop's ``PythonProcessPoolExecutor``, ``PythonInterpreterPoolExecutor`` and
``PythonClusterExecutor``).

One package under one name wherever it runs: installed beside ``cs_futures`` (which imports its
pieces from here), and embedded as it is in the Futures.Interop assembly, whose .NET hosts write a
private copy to a folder of their own (``WorkerPackage.cs``). It never imports ``cs_futures``,
``ctypes`` or .NET: a worker must not load .NET.

Every worker process starts the same way, for the Python package's process pool, for a .NET host's
and for a cluster node's: the python executable with ``worker_arguments()``, which run this
package's ``__main__`` (as ``python -m _cs_futures_worker`` does).
"""

# The worker's whole command line after the interpreter's flags: the folder holding the package goes
# first on sys.path only while the package is imported (its submodules are found through its
# __path__), so that the worker's sys.path is the one it would have had without it.
_BOOTSTRAP = ("import sys; sys.path.insert(0, %r); from _cs_futures_worker import __main__; "
              "del sys.path[0]; sys.exit(__main__.main())")


def location():
    """Return the folder that holds this copy of the package (what goes on ``sys.path``)."""
    import os
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker_arguments(flags=(), folder=None):
    """Return the arguments that follow the python executable to start one worker process.

    *flags* are the interpreter's own (``subprocess._args_from_interpreter_flags()``), then
    ``-c`` and the bootstrap that imports this package from *folder* (by default, the folder of
    this copy) and runs its ``__main__``. A cluster node's workers get the extra argument
    ``cluster-node``.
    """
    return [*flags, "-c", _BOOTSTRAP % (folder or location())]
