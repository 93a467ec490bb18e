"""Keep ``__main__`` out of multiprocessing's forkserver preload (Python 3.14+).

3.14 made ``forkserver`` the default start method on Linux, and its server now imports the parent's
``__main__`` before it forks any child (the default ``_preload_modules`` always named ``__main__``,
but before 3.14 the main module's path never reached the server). A main module that
imports cs_futures loads .NET in that server, and every child it forks then holds a copy of a runtime
that lost its threads: cs_futures refuses to run there (see ``_bridge.check_process``). Without that
preload, each child imports ``__main__`` itself, as on 3.13, and loads .NET afresh.

The default is changed only while it is still the default list, and only once
``multiprocessing.forkserver`` is imported: importing it here would cost the package's import about
40 ms, so a finder at the front of ``sys.meta_path`` waits for that one module name and steps aside
at once for every other import.
"""
import sys

_MODULE = "multiprocessing.forkserver"


def _keep_main_out(forkserver):
    server = getattr(forkserver, "_forkserver", None)
    if server is not None and getattr(server, "_preload_modules", None) == ["__main__"]:
        server._preload_modules = []


class _WaitForForkserver:
    """A meta path finder that finds nothing: it notices the import of multiprocessing.forkserver,
    lets the usual finders load it, then changes its default preload and removes itself."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != _MODULE:
            return None
        sys.meta_path.remove(cls)
        import importlib.util
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader, exec_module = spec.loader, spec.loader.exec_module

        def exec_then_change(module):  # this module's own loader instance: nothing else shares it
            exec_module(module)
            _keep_main_out(module)

        loader.exec_module = exec_then_change
        return spec


def install():
    """Make multiprocessing's forkserver (3.14+) leave ``__main__`` out of its default preload."""
    if sys.version_info < (3, 14):
        return
    module = sys.modules.get(_MODULE)
    if module is not None:
        _keep_main_out(module)
    elif _WaitForForkserver not in sys.meta_path:
        sys.meta_path.insert(0, _WaitForForkserver)
