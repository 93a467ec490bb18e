"""Run a script or module with ``concurrent.futures`` served by cs_futures.

    python -m cs_futures script.py [args...]
    python -m cs_futures -m package.module [args...]
    python -m cs_futures check PATH [PATH...]
    python -m cs_futures --cluster ADDRESS script.py [args...]

With ``--cluster``, the script's ``ProcessPoolExecutor`` sends its calls to the cluster at ADDRESS
(``HOST:PORT`` of a node's gateway, or ``redis://HOST:PORT``); its ``max_workers`` caps the tasks
running at once.

``sys.argv``, ``__main__``, ``__file__``, exit codes and tracebacks are as ``python script.py``
gives them.
"""
import os
import runpy
import sys
import traceback

USAGE = __doc__


def _print_user_traceback(exc, keep):
    """Print the traceback of an uncaught exception without this runner's frames."""
    tb = exc.__traceback__
    while tb is not None and not keep(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    exc.__traceback__ = tb or exc.__traceback__
    sys.excepthook(type(exc), exc, exc.__traceback__)


def _serve_process_pool_from(address):
    """Make ``concurrent.futures.ProcessPoolExecutor`` send its calls to the cluster at *address*."""
    import cs_futures
    from cs_futures import cluster, process
    served = type("ProcessPoolExecutor", (cluster.ProcessPoolOnCluster,),
                  {"address": address, "__module__": "concurrent.futures.process"})
    cs_futures.ProcessPoolExecutor = process.ProcessPoolExecutor = served


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE.strip())
        return 0 if argv else 2
    if argv[0] == "check":
        from ._check import main as check
        return check(argv[1:])
    cluster = None
    if argv[0] == "--cluster":
        if len(argv) < 3:
            print("python -m cs_futures --cluster ADDRESS script.py: missing address or script",
                  file=sys.stderr)
            return 2
        cluster, argv = argv[1], argv[2:]
    from ._alias import install
    install()
    if cluster is not None:
        _serve_process_pool_from(cluster)
    if argv[0] == "-m":
        if len(argv) < 2:
            print("python -m cs_futures -m: missing module name", file=sys.stderr)
            return 2
        module = argv[1]
        sys.argv = [module] + argv[2:]
        sys.path.insert(0, os.getcwd())
        run = lambda: runpy.run_module(module, run_name="__main__", alter_sys=True)
        keep = lambda filename: not filename.startswith(("<frozen runpy>", runpy.__file__, __file__))
    else:
        script = argv[0]
        if not os.path.exists(script):
            print(f"{sys.executable}: can't open file {os.path.abspath(script)!r}: "
                  "[Errno 2] No such file or directory", file=sys.stderr)
            return 2
        sys.argv = argv[:]
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        run = lambda: runpy.run_path(script, run_name="__main__")
        keep = lambda filename: os.path.abspath(filename) == os.path.abspath(script) or not filename.startswith(
            ("<frozen runpy>", runpy.__file__, __file__))
    try:
        run()
    except SystemExit:
        raise
    except BaseException as exc:  # as the interpreter does for an uncaught exception
        _print_user_traceback(exc, keep)
        if isinstance(exc, KeyboardInterrupt):
            return 130
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
