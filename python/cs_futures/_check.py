"""``python -m cs_futures check PATH...``: find uses of concurrent.futures that behave differently
under cs_futures, file and line, from docs/differences.md. Standard library ``ast`` only.
"""
import ast
import os
import sys

# Private attributes that code reads on executors and futures, and what cs_futures does with them.
ATTRIBUTES = {
    "_threads": "CF101 executor._threads holds stand-ins for the .NET worker threads (name, join, "
                "is_alive); they are not threading-started threads",
    "_work_queue": "CF102 executor._work_queue only supports qsize() and empty(); items cannot be "
                   "read or put",
    "_idle_semaphore": "CF103 executor._idle_semaphore does not exist: the .NET engine reuses idle "
                       "threads itself",
    "_condition": "CF104 future._condition is a lock with notify_all(); waiting belongs to the .NET "
                  "engine",
    "_waiters": "CF105 future._waiters takes append() and remove() of waiters, as the standard "
                "library's wait and as_completed use it; it lists those waiters only",
    "_state": "CF106 future._state reads and writes the .NET engine's state; writing it skips the "
              "usual checks (as in CPython)",
    "_result": "CF106 future._result reads and writes the .NET engine's result",
    "_exception": "CF106 future._exception reads and writes the .NET engine's exception",
    "_done_callbacks": "CF107 future._done_callbacks does not exist: callbacks live in the .NET engine",
    "_shutdown_lock": "CF108 executor._shutdown_lock does not exist: the .NET engine serialises "
                      "submit and shutdown",
    "_processes": "CF201 executor._processes maps pids to views of the .NET-managed workers (pid, "
                  "exitcode, is_alive, terminate, kill, join), not multiprocessing.Process objects",
    "_pending_work_items": "CF201 executor._pending_work_items does not exist: the .NET engine "
                           "holds the pending tasks",
    "_call_queue": "CF201 executor._call_queue does not exist as a queue: tasks go straight to the "
                   ".NET engine (join_thread() does nothing)",
    "_executor_manager_thread": "CF201 executor._executor_manager_thread is a view whose join() "
                                "waits for the pool's end; there is no manager thread",
}

EXECUTOR_CLASSES = {"ThreadPoolExecutor", "Future", "Executor"}
PRIVATE_OVERRIDES = "CF110 subclass of {base} overrides {name}(), which cs_futures never calls " \
                    "(the .NET engine does that work)"


def _base_names(node):
    for base in node.bases:
        if isinstance(base, ast.Name):
            yield base.id
        elif isinstance(base, ast.Attribute):
            yield base.attr


def _mentions_futures(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.startswith("concurrent.futures") for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module and (
                node.module.startswith("concurrent.futures")
                or (node.module == "concurrent" and any(a.name == "futures" for a in node.names))):
            return True
    return False


def check_source(source, filename="<string>"):
    """Return the findings for one source text as (line, message) pairs, sorted by line."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        return [(exc.lineno or 0, f"CF000 cannot parse: {exc.msg}")]
    if not _mentions_futures(tree):
        return []
    findings = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES:
            findings.append((node.lineno, ATTRIBUTES[node.attr]))
        elif isinstance(node, ast.ClassDef):
            bases = [b for b in _base_names(node) if b in EXECUTOR_CLASSES]
            for item in node.body:
                if (bases and isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and item.name.startswith("_") and not item.name.startswith("__")):
                    findings.append((item.lineno, PRIVATE_OVERRIDES.format(base=bases[0], name=item.name)))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "fork" and isinstance(func, ast.Attribute) and getattr(func.value, "id", "") == "os":
                findings.append((node.lineno, "CF301 os.fork(): a child forked after cs_futures loaded "
                                              ".NET cannot use cs_futures (it raises RuntimeError)"))
            if name == "ProcessPoolExecutor":
                findings.append((node.lineno, "CF202 ProcessPoolExecutor workers are fresh interpreters, "
                                              "never forked: module state the parent sets at runtime "
                                              "is not inherited (as with the 'spawn' start method)"))
            if name in ("set_start_method", "get_context") and node.args and \
                    isinstance(node.args[0], ast.Constant) and node.args[0].value == "fork":
                findings.append((node.lineno, "CF302 the 'fork' start method forks a process that "
                                              "runs .NET threads; prefer 'spawn' or 'forkserver'"))
    return sorted(set(findings))


def _python_files(paths):
    for path in paths:
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for name in sorted(files):
                    if name.endswith(".py"):
                        yield os.path.join(folder, name)
        else:
            yield path


def main(paths, out=sys.stdout):
    """Print ``file:line: message`` for each finding; return 0 when nothing needs attention, 1 when
    something does, 2 when a path cannot be read."""
    if not paths:
        print("usage: python -m cs_futures check PATH [PATH...]", file=sys.stderr)
        return 2
    status = 0
    for filename in _python_files(paths):
        try:
            with open(filename, encoding="utf-8") as f:
                source = f.read()
        except OSError as exc:
            print(f"{filename}: cannot read: {exc.strerror}", file=sys.stderr)
            return 2
        for line, message in check_source(source, filename):
            print(f"{filename}:{line}: {message}", file=out)
            status = 1
    return status
