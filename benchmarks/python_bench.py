#!/usr/bin/env python3
"""Compare cs_futures with the standard library's concurrent.futures, in the same run.

Standard library only. Every workload is run with both implementations, alternating
(cs_futures, stdlib, stdlib, cs_futures, ... : the order flips each round so that neither side
always runs "warm" after the other), and the median of each side is reported.

Workloads:
  submit+result  ThreadPoolExecutor(4): submit N trivial tasks, then result() each
  map            ThreadPoolExecutor(4): list(ex.map(f, range(N)))
  as_completed   ThreadPoolExecutor(4): submit N, iterate as_completed(), result() each
  io_batch       ThreadPoolExecutor(32): 256 x time.sleep(0.01), executor created and shut down
                 inside the timed block (total ms)
  process map cs=1    ProcessPoolExecutor(2): list(ex.map(f, range(N))), chunksize=1
  process map cs=100  ProcessPoolExecutor(2): the same with chunksize=100
  process submit+result  ProcessPoolExecutor(2): submit N trivial tasks, then result() each
                 (the task is this script's own function: by value for cs_futures, whose workers
                 never import the main script; by name for the stdlib's)
  wake-up (N submitters)  fresh subprocess per side and round: N threads submit trivial tasks to a
                 ThreadPoolExecutor(4) in a loop while the main thread sleeps 10 ms 30 times; reports
                 how late each sleep returns (ms; median, p90, max) and how many tasks were submitted.
                 Verdict: fair when the p90 is within 3x the stdlib's + 5 ms
  io first pool  fresh subprocess per side and round: the process's first pool,
                 ThreadPoolExecutor(32) around 400 x time.sleep(0.005) (total ms); "after 1 submit"
                 runs one untimed ThreadPoolExecutor(1).submit first
  startup        fresh subprocess: interpreter start -> first result of
                 `import X; X.ThreadPoolExecutor(1).submit(int).result()` (ms)

--engines: the two engines of cs_futures side by side in one run (issue 13): start-up of the native
engine, the runtime-hosted one (CoreCLR), the stdlib and a bare interpreter (fresh processes, rotating,
medians: import to first result, measured in the child; interpreter start to first result, from the
spawn to the child's first result on the shared monotonic clock), then the thread- and process-pool
per-task workloads once per engine (this script in a child with CS_FUTURES_ENGINE set, each against
the stdlib in its own run), ratio beside ratio.

--floors: issue 24's figures on this interpreter, in one run: the cost of one call (``f.done()`` and
``f.result()`` on a done future, ``timeit`` best of 7, both sides), the three thread-pool per-task
ratios, the wake-up of a sleeping thread beside 8 submitters, and import to first result (fresh
processes, medians), each with its verdict against the floor and the target. ``--table A.json B.json...``
prints the results of several such runs (one per interpreter) as one Markdown table: what
benchmarks/all_versions.sh does for CPython 3.11 to 3.15.

--only interpreter (Python 3.12+): cs_futures.InterpreterPoolExecutor(2) against the stdlib's
ThreadPoolExecutor(2) and ProcessPoolExecutor(2) (and cs_futures' ProcessPoolExecutor(2) for the
start-up), rotating the order each round, medians:
  cpu 5 ms x 32  map of a pure-Python loop of about 5 ms, 32 calls, warm pools (wall ms)
  trivial        submit + result of N trivial tasks, warm pools (us/task)
  start-up       create the pool, one trivial task on each of the 2 workers at once, shut down (ms)

For the three per-task workloads, the executor is created and warmed up (its workers started)
before the clock starts, and shut down after it stops: they measure the per-task cost only.

Usage: python benchmarks/python_bench.py [--quick] [--only thread|process|interpreter] [--json FILE] [--rounds R] [-n N]
       [--fresh-rounds R] [--startup-runs R] [--engines] [--per-task-only] [--floors] [--table JSON...]
Ratio = cs_futures / stdlib: below 1 means cs_futures is faster.
"""
import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time

REPO_PYTHON = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                            os.pardir, "python"))
if REPO_PYTHON not in sys.path:
    sys.path.insert(0, REPO_PYTHON)

import concurrent.futures as std_futures  # noqa: E402
import cs_futures  # noqa: E402

SIDES = (("cs_futures", cs_futures), ("stdlib", std_futures))


def task(x):
    """The trivial task: returns its argument."""
    return x


def _sleep_task(_):
    time.sleep(0.01)


def _warm(ex, workers):
    """Start every worker thread (both implementations start them lazily, on submit)."""
    for f in [ex.submit(time.sleep, 0.002) for _ in range(workers)]:
        f.result()


def _timed_with_pool(mod, workers, body):
    ex = mod.ThreadPoolExecutor(workers)
    try:
        _warm(ex, workers)
        gc.collect()
        t0 = time.perf_counter()
        body(mod, ex)
        return time.perf_counter() - t0
    finally:
        ex.shutdown(wait=True)


def bench_submit_result(mod, n):
    def body(mod, ex):
        submit = ex.submit
        fs = [submit(task, i) for i in range(n)]
        for f in fs:
            f.result()
    return _timed_with_pool(mod, 4, body) / n


def bench_map(mod, n):
    def body(mod, ex):
        out = list(ex.map(task, range(n)))
        assert len(out) == n
    return _timed_with_pool(mod, 4, body) / n


def bench_as_completed(mod, n):
    def body(mod, ex):
        submit = ex.submit
        fs = [submit(task, i) for i in range(n)]
        count = 0
        for f in mod.as_completed(fs):
            f.result()
            count += 1
        assert count == n
    return _timed_with_pool(mod, 4, body) / n


def bench_io_batch(mod, n):
    gc.collect()
    t0 = time.perf_counter()
    with mod.ThreadPoolExecutor(32) as ex:
        fs = [ex.submit(_sleep_task, i) for i in range(n)]
        for f in fs:
            f.result()
    return time.perf_counter() - t0


def _timed_with_process_pool(mod, body):
    ex = mod.ProcessPoolExecutor(2)
    try:
        for f in [ex.submit(time.sleep, 0.05) for _ in range(2)]:  # start both workers
            f.result()
        gc.collect()
        t0 = time.perf_counter()
        body(ex)
        return time.perf_counter() - t0
    finally:
        ex.shutdown(wait=True)


def bench_process_map(chunksize):
    def bench(mod, n):
        def body(ex):
            out = list(ex.map(task, range(n), chunksize=chunksize))
            assert len(out) == n
        return _timed_with_process_pool(mod, body) / n
    return bench


def bench_process_submit_result(mod, n):
    def body(ex):
        submit = ex.submit
        fs = [submit(task, i) for i in range(n)]
        for f in fs:
            f.result()
    return _timed_with_process_pool(mod, body) / n


_FRESH_PRELUDE = """
import json, sys, threading, time
sys.path.insert(0, {repo!r})
if {side!r} == "cs_futures":
    import cs_futures as X
else:
    import concurrent.futures as X
"""

_WAKEUP_CODE = """
def task(x):
    return x
ex = X.ThreadPoolExecutor(4)
ex.submit(task, 0).result()
stop = threading.Event()
counts = []
def submitter():
    submit, n = ex.submit, 0
    while not stop.is_set():
        submit(task, n)
        n += 1
    counts.append(n)
threads = [threading.Thread(target=submitter) for _ in range({submitters})]
for t in threads:
    t.start()
time.sleep(0.05)
late, start = [], time.perf_counter()
for _ in range(30):
    t0 = time.perf_counter()
    time.sleep(0.01)
    late.append((time.perf_counter() - t0 - 0.01) * 1e3)
stop.set()
elapsed = time.perf_counter() - start
for t in threads:
    t.join()
t0 = time.perf_counter()
ex.shutdown(wait=True)
print(json.dumps({{"late": late, "rate": sum(counts) / elapsed, "shutdown": (time.perf_counter() - t0) * 1e3}}))
"""

_IO_FIRST_POOL_CODE = """
def sleep5(_):
    time.sleep(0.005)
if {warm}:
    X.ThreadPoolExecutor(1).submit(int).result()
t0 = time.perf_counter()
with X.ThreadPoolExecutor(32) as ex:
    for f in [ex.submit(sleep5, i) for i in range(400)]:
        f.result()
print(json.dumps({{"total": (time.perf_counter() - t0) * 1e3}}))
"""


def _fresh(side, body, **fields):
    """Run prelude + body in a fresh interpreter for one side; returns the JSON it prints."""
    code = (_FRESH_PRELUDE + body).format(repo=REPO_PYTHON, side=side, **fields)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"fresh-process run failed ({side}): {proc.stderr}")
    return json.loads(proc.stdout)


def _alternate(rounds, measure):
    """measure(side) for each side, alternating the order each round; {side: [result, ...]}."""
    out = {side: [] for side, _ in SIDES}
    for r in range(rounds):
        for side, _ in (SIDES if r % 2 == 0 else SIDES[::-1]):
            out[side].append(measure(side))
    return out


def _percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def bench_wakeup(submitters, rounds):
    """Wake-up latency of a sleeping thread beside N submitting threads (fresh process per run)."""
    runs = _alternate(rounds, lambda side: _fresh(side, _WAKEUP_CODE, submitters=submitters))
    out = {"unit": "ms p90", "n": submitters, "rounds": rounds, "kind": "latency"}
    for side, results in runs.items():
        late = [x for r in results for x in r["late"]]
        out[side] = {"median": _percentile(late, 0.9), "p50": statistics.median(late),
                     "max": max(late), "min": min(late),
                     "submitted_per_s": statistics.median(r["rate"] for r in results),
                     "shutdown_ms": statistics.median(r["shutdown"] for r in results),
                     "samples": late}
    out["ratio"] = out["cs_futures"]["median"] / out["stdlib"]["median"]
    out["fair"] = out["cs_futures"]["median"] <= 3 * out["stdlib"]["median"] + 5
    return out


def bench_io_first_pool(warm, rounds):
    """The I/O batch as a script's first pool, in a fresh process per run (total ms)."""
    runs = _alternate(rounds, lambda side: _fresh(side, _IO_FIRST_POOL_CODE, warm=warm)["total"] / 1e3)
    return _summarize("total", 400, rounds, runs)


_STARTUP_CODE = {
    "cs_futures": "import cs_futures as X; X.ThreadPoolExecutor(1).submit(int).result()",
    "stdlib": "import concurrent.futures as X; X.ThreadPoolExecutor(1).submit(int).result()",
    "bare": "pass",
}


def bench_startup(side, _n):
    """Wall time of a fresh interpreter that imports X and gets a first result (seconds)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO_PYTHON + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    cmd = [sys.executable, "-c", _STARTUP_CODE[side]]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"startup run failed ({side}): {proc.stderr.decode(errors='replace')}")
    return elapsed


# name, function, kind ('task' -> us/task, 'total' -> ms), N in quick mode, N in full mode
WORKLOADS = (
    ("submit+result", bench_submit_result, "task", 2_000, 20_000),
    ("map", bench_map, "task", 2_000, 20_000),
    ("as_completed", bench_as_completed, "task", 2_000, 20_000),
    ("io_batch(32x256)", bench_io_batch, "total", 256, 256),
    ("process map cs=1", bench_process_map(1), "task", 1_000, 5_000),
    ("process map cs=100", bench_process_map(100), "task", 10_000, 100_000),
    ("process submit", bench_process_submit_result, "task", 1_000, 5_000),
)


def spin(n):
    """The CPU-bound task: a pure-Python loop."""
    total = 0
    for i in range(n):
        total += i
    return total


def _calibrate_spin(seconds=0.005):
    n = 20000
    while True:
        t0 = time.perf_counter()
        spin(n)
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds / 4:
            return max(1, int(n * seconds / elapsed))
        n *= 2


def _interpreter_sides():
    return (("cs_futures interpreter", cs_futures.InterpreterPoolExecutor),
            ("stdlib thread", std_futures.ThreadPoolExecutor),
            ("stdlib process", std_futures.ProcessPoolExecutor))


def _warm_pool(factory):
    ex = factory(2)
    for f in [ex.submit(time.sleep, 0.05) for _ in range(2)]:  # both workers started
        f.result()
    return ex


def run_interpreter(args):
    """The interpreter-pool group: {workload: {side: median, ...}}."""
    rounds = args.rounds or (5 if args.quick else 9)
    n_trivial = args.n or (500 if args.quick else 2000)
    loops = _calibrate_spin()
    calls = 32
    sides = _interpreter_sides()
    # The stdlib's process pool forks: its workers are forked before any subinterpreter exists (a
    # process forked while subinterpreters run cannot start; see docs/python.md, Interpreter pools).
    pools = {name: _warm_pool(factory) for name, factory in sides[::-1]}
    results = {}
    try:
        def cpu(ex):
            t0 = time.perf_counter()
            out = list(ex.map(spin, [loops] * calls))
            assert len(out) == calls
            return (time.perf_counter() - t0) * 1e3

        def trivial(ex):
            gc.collect()
            t0 = time.perf_counter()
            for f in [ex.submit(task, i) for i in range(n_trivial)]:
                f.result()
            return (time.perf_counter() - t0) * 1e6 / n_trivial

        t0 = time.perf_counter()
        spin(loops)
        one_call_ms = (time.perf_counter() - t0) * 1e3
        for name, body, unit, n in (("cpu 5 ms x %d" % calls, cpu, "ms", calls),
                                    ("trivial", trivial, "us/task", n_trivial)):
            samples = {side: [] for side, _ in sides}
            for side, _ in sides:
                body(pools[side])  # untimed warm-up
            for r in range(rounds):
                order = sides[r % len(sides):] + sides[:r % len(sides)]
                for side, _ in order:
                    samples[side].append(body(pools[side]))
            results[name] = {"unit": unit, "n": n,
                             **{side: statistics.median(v) for side, v in samples.items()}}
            _progress(name, results[name])
    finally:
        for ex in pools.values():
            ex.shutdown(wait=True)

    # The stdlib's process pool with the start methods other than fork: forkserver is 3.14's default on
    # Linux (its server process is started once, by the untimed warm-up), spawn macOS's and Windows'.
    import functools
    import multiprocessing
    startup_sides = sides + (
        ("cs_futures process", cs_futures.ProcessPoolExecutor),
        ("stdlib process forkserver", functools.partial(
            std_futures.ProcessPoolExecutor, mp_context=multiprocessing.get_context("forkserver"))),
        ("stdlib process spawn", functools.partial(
            std_futures.ProcessPoolExecutor, mp_context=multiprocessing.get_context("spawn"))))
    samples = {side: [] for side, _ in startup_sides}

    def startup(factory):
        t0 = time.perf_counter()
        ex = factory(2)
        for f in [ex.submit(time.sleep, 0.001) for _ in range(2)]:
            f.result()
        ex.shutdown(wait=True)
        return (time.perf_counter() - t0) * 1e3

    for side, factory in startup_sides:
        startup(factory)  # untimed: imports, code paths
    for r in range(rounds):
        order = startup_sides[r % len(startup_sides):] + startup_sides[:r % len(startup_sides)]
        for side, factory in order:
            samples[side].append(startup(factory))
    results["start-up"] = {"unit": "ms", "n": 2, **{s: statistics.median(v) for s, v in samples.items()}}
    _progress("start-up", results["start-up"])
    results["_info"] = {"loops": loops, "one_call_ms": one_call_ms}
    return results


def print_interpreter_table(results):
    info = results.pop("_info")
    names = ["cs_futures interpreter", "stdlib thread", "stdlib process", "cs_futures process"]
    print(f"spin({info['loops']}) takes {info['one_call_ms']:.1f} ms on one thread")
    header = f"{'workload':<16} {'unit':>8} " + " ".join(f"{n:>22}" for n in names)
    print(header)
    print("-" * len(header))
    for name, res in results.items():
        cells = " ".join(f"{res[n]:>22.2f}" if n in res else f"{'-':>22}" for n in names)
        print(f"{name:<16} {res['unit']:>8} {cells}")
    cpu = next(v for k, v in results.items() if k.startswith("cpu"))
    print(f"cpu: interpreter pool {cpu['stdlib thread'] / cpu['cs_futures interpreter']:.2f}x faster than the "
          f"thread pool, {cpu['stdlib process'] / cpu['cs_futures interpreter']:.2f}x the process pool's speed")
    st = results["start-up"]
    print(f"start-up: interpreter pool {st['cs_futures interpreter']:.1f} ms vs process pools "
          f"{st['stdlib process']:.1f} ms (stdlib, fork), {st['stdlib process forkserver']:.1f} ms (stdlib, "
          f"forkserver), {st['stdlib process spawn']:.1f} ms (stdlib, spawn) and "
          f"{st['cs_futures process']:.1f} ms (cs_futures)")


def _measure_workload(fn, kind, n, rounds):
    """One workload on both sides: an untimed warm-up each (imports, code paths, allocator), then
    ``rounds`` alternating rounds; summarized."""
    modules = dict(SIDES)
    for mod in modules.values():
        fn(mod, min(n, 500))
    return _summarize(kind, n, rounds, _alternate(rounds, lambda side: fn(modules[side], n)))


def run(args):
    results = {}
    rounds = args.rounds or (5 if args.quick else 9)
    for name, fn, kind, n_quick, n_full in WORKLOADS:
        if args.only and name.startswith("process") != (args.only == "process"):
            continue
        n = args.n if (args.n and kind == "task") else (n_quick if args.quick else n_full)
        # the I/O batch is short (~0.1 s) and its run-to-run noise is a few ms: more rounds
        results[name] = _measure_workload(fn, kind, n, rounds * 3 if kind == "total" else rounds)
        _progress(name, results[name])

    if args.only == "process" or args.per_task_only:
        return results
    fresh_rounds = args.fresh_rounds or (3 if args.quick else 7)
    for submitters in (1, 8):
        name = f"wake-up ({submitters} sub.)"
        results[name] = bench_wakeup(submitters, fresh_rounds)
        _progress(name, results[name])
    for warm in (False, True):
        name = "io first pool" + (" +1" if warm else "")
        results[name] = bench_io_first_pool(warm, fresh_rounds * 2 + 1)
        _progress(name, results[name])
    runs = args.startup_runs or (5 if args.quick else 11)
    samples = {"cs_futures": [], "stdlib": [], "bare": []}
    for r in range(runs):
        order = ("cs_futures", "stdlib", "bare") if r % 2 == 0 else ("bare", "stdlib", "cs_futures")
        for side in order:
            samples[side].append(bench_startup(side, None))
    results["startup"] = _summarize("total", 1, runs, samples)
    _progress("startup", results["startup"])
    return results


_ENGINE_STARTUP_CODE = """
import time
t0 = time.perf_counter()
{body}
t1 = time.perf_counter()
print(t0, t1)
"""
ENGINE_SIDES = (  # name, CS_FUTURES_ENGINE, body
    ("native", "native", _STARTUP_CODE["cs_futures"]),
    ("runtime", "runtime", _STARTUP_CODE["cs_futures"]),
    ("stdlib", None, _STARTUP_CODE["stdlib"]),
    ("bare", None, "pass"),
)


def bench_engine_startup(runs, sides=None):
    """{side: {"import": [ms...], "start": [ms...]}} over fresh processes, rotating the order
    (``sides``: the names of ENGINE_SIDES to run; all by default)."""
    engine_sides = tuple(side for side in ENGINE_SIDES if sides is None or side[0] in sides)
    # As an installed package starts: with its bytecode cached (the standard library's is), whatever
    # PYTHONDONTWRITEBYTECODE says.
    import compileall
    compileall.compile_dir(os.path.join(REPO_PYTHON, "cs_futures"), quiet=1)
    samples = {name: {"import": [], "start": []} for name, _, _ in engine_sides}
    for r in range(runs):
        order = engine_sides[r % len(engine_sides):] + engine_sides[:r % len(engine_sides)]
        for name, engine, body in order:
            env = dict(os.environ)
            env["PYTHONPATH"] = REPO_PYTHON + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
            env.pop("CS_FUTURES_ENGINE", None)
            if engine:
                env["CS_FUTURES_ENGINE"] = engine
            spawn = time.perf_counter()  # CLOCK_MONOTONIC: the child's perf_counter is on the same clock
            proc = subprocess.run([sys.executable, "-c", _ENGINE_STARTUP_CODE.format(body=body)], env=env,
                                  capture_output=True, text=True, timeout=120)
            if proc.returncode != 0:
                raise RuntimeError(f"start-up run failed ({name}): {proc.stderr}")
            t0, t1 = map(float, proc.stdout.split())
            samples[name]["import"].append((t1 - t0) * 1e3)
            samples[name]["start"].append((t1 - spawn) * 1e3)
    return samples


def run_engines(args):
    """Start-up of both engines and the stdlib, then the per-task ratios of each engine."""
    import tempfile
    runs = args.startup_runs or (7 if args.quick else 15)
    startup = bench_engine_startup(runs)
    _progress("start-up (engines)", startup)
    ratios = {}
    for engine in ("native", "runtime"):
        for only in ("thread", "process"):
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                cmd = [sys.executable, os.path.abspath(__file__), "--only", only, "--per-task-only",
                       "--json", out.name]
                cmd += ["--quick"] if args.quick else []
                cmd += ["--rounds", str(args.rounds)] if args.rounds else []
                cmd += ["-n", str(args.n)] if args.n else []
                env = dict(os.environ, CS_FUTURES_ENGINE=engine)
                proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
                if proc.returncode != 0:
                    raise RuntimeError(f"{engine} {only} run failed: {proc.stderr}")
                with open(out.name) as fh:
                    for name, res in json.load(fh)["results"].items():
                        ratios.setdefault(name, {})[engine] = res
            _progress(f"{only} pools ({engine} engine)", None)
    return {"startup": {side: {k: {"median": statistics.median(v), "min": min(v), "max": max(v), "samples": v}
                               for k, v in kinds.items()} for side, kinds in startup.items()},
            "startup_runs": runs, "ratios": ratios}


def print_engines(results):
    st = results["startup"]
    print(f"start-up, median of {results['startup_runs']} fresh processes each (ms):")
    print(f"{'':<10} {'import to first result':>24} {'interpreter start to first result':>36}")
    for side in ("native", "runtime", "stdlib", "bare"):
        imp = "-" if side == "bare" else f"{st[side]['import']['median']:.1f}"
        print(f"{side:<10} {imp:>24} {st[side]['start']['median']:>36.1f}")
    std = st["stdlib"]["import"]["median"]
    print(f"  import to first result over the stdlib: native +{st['native']['import']['median'] - std:.1f} ms, "
          f"runtime +{st['runtime']['import']['median'] - std:.1f} ms")
    print()
    print(f"{'workload':<20} {'unit':>8} {'native':>9} {'stdlib':>9} {'ratio':>7}   {'runtime':>9} {'stdlib':>9} {'ratio':>7}")
    for name, by_engine in results["ratios"].items():
        n, r = by_engine.get("native"), by_engine.get("runtime")
        cells = []
        for res in (n, r):
            cells.append(f"{res['cs_futures']['median']:>9.2f} {res['stdlib']['median']:>9.2f} {res['ratio']:>7.3f}"
                         if res else f"{'-':>9} {'-':>9} {'-':>7}")
        unit = (n or r)["unit"]
        print(f"{name:<20} {unit:>8} {cells[0]}   {cells[1]}")
    print("ratio = cs_futures / stdlib in the same run (median of the rounds); < 1 means cs_futures is faster")


def _summarize(kind, n, rounds, samples):
    scale = 1e6 if kind == "task" else 1e3
    unit = "us/task" if kind == "task" else "ms"
    out = {"unit": unit, "n": n, "rounds": rounds}
    for side, values in samples.items():
        scaled = [v * scale for v in values]
        out[side] = {"median": statistics.median(scaled), "min": min(scaled), "max": max(scaled),
                     "samples": scaled}
    out["ratio"] = out["cs_futures"]["median"] / out["stdlib"]["median"]
    return out


def _progress(name, res):
    print(f"  ... {name}: done", file=sys.stderr, flush=True)


def print_table(results):
    header = f"{'workload':<18} {'unit':>8} {'N':>7} {'cs_futures':>11} {'stdlib':>11} {'ratio':>7}  verdict"
    print(header)
    print("-" * len(header))
    for name, res in results.items():
        ratio = res["ratio"]
        if name == "startup":
            verdict = "(allowed slower)"
        elif res.get("kind") == "latency":
            verdict = "fair" if res["fair"] else "UNFAIR (p90 > 3x stdlib + 5 ms)"
        else:
            verdict = "OK" if ratio <= 1.0 else "SLOWER"
        print(f"{name:<18} {res['unit']:>8} {res['n']:>7} {res['cs_futures']['median']:>11.2f} "
              f"{res['stdlib']['median']:>11.2f} {ratio:>7.3f}  {verdict}")
    for name, res in results.items():
        if res.get("kind") == "latency":
            cs, std = res["cs_futures"], res["stdlib"]
            print(f"  {name}: median late {cs['p50']:.2f} vs {std['p50']:.2f} ms, max {cs['max']:.1f} vs "
                  f"{std['max']:.1f} ms; tasks submitted {cs['submitted_per_s'] / 1e3:.0f}k/s vs "
                  f"{std['submitted_per_s'] / 1e3:.0f}k/s; shutdown {cs['shutdown_ms']:.1f} vs {std['shutdown_ms']:.1f} ms")
    if "startup" in results and "bare" in results["startup"]:
        bare = results["startup"]["bare"]["median"]
        st = results["startup"]
        print(f"  startup: bare interpreter {bare:.1f} ms -> cs_futures +"
              f"{st['cs_futures']['median'] - bare:.1f} ms, stdlib +{st['stdlib']['median'] - bare:.1f} ms")
    print("ratio = cs_futures / stdlib (median of the rounds); < 1 means cs_futures is faster")

# Issue 24's floors and targets: (floor, target) per figure; a ratio is cs_futures / stdlib.
FLOORS = {
    "done() ns": (100, 60),
    "submit+result": (0.40, 0.25),
    "map": (0.40, 0.25),
    "as_completed": (0.40, 0.25),
    "import +ms": (5.0, 5.0),
}


def bench_calls():
    """ns per call of f.done() and f.result() on a done future, and of the bare entry point
    (``_bridge.future_state``): timeit, best of 7 repeats, both sides."""
    import timeit
    out = {}
    for side, mod in SIDES:
        with mod.ThreadPoolExecutor(1) as ex:
            f = ex.submit(int)
            f.result()
        out[side] = {}
        for name, stmt in (("done()", f.done), ("result()", f.result)):
            number = 200_000
            out[side][name] = min(timeit.repeat(stmt, number=number, repeat=7)) / number * 1e9
    from cs_futures import _bridge
    f = cs_futures.Future()
    f.set_result(1)
    h, state = f._h, _bridge.future_state
    out["entry"] = min(timeit.repeat("state(h)", globals={"state": state, "h": h}, number=200_000,
                                     repeat=7)) / 200_000 * 1e9
    return out


def run_floors(args):
    """Issue 24's figures on this interpreter (see --floors)."""
    rounds = args.rounds or (5 if args.quick else 9)
    n = args.n or (2_000 if args.quick else 20_000)
    results = {"calls": bench_calls()}
    _progress("calls", None)
    for name, fn, kind, _nq, _nf in WORKLOADS[:3]:
        results[name] = _measure_workload(fn, kind, n, rounds)
        _progress(name, None)
    results["wake-up (8 sub.)"] = bench_wakeup(8, args.fresh_rounds or (3 if args.quick else 7))
    _progress("wake-up", None)
    runs = args.startup_runs or (7 if args.quick else 15)
    startup = bench_engine_startup(runs, sides=("native", "stdlib"))
    results["import"] = {side: statistics.median(v["import"]) for side, v in startup.items()}
    results["import"]["runs"] = runs
    _progress("import", None)
    return results


def floor_rows(results):
    """(figure, cs_futures, stdlib, value, floor, target, verdict) rows of a --floors run."""
    def verdict(value, key):
        floor, target = FLOORS[key]
        return "target met" if value <= target else ("floor met" if value <= floor else "FLOOR MISSED")
    calls = results["calls"]
    rows = [("done() on a done future (ns)", calls["cs_futures"]["done()"], calls["stdlib"]["done()"],
             calls["cs_futures"]["done()"], *FLOORS["done() ns"], verdict(calls["cs_futures"]["done()"], "done() ns")),
            ("result() on a done future (ns)", calls["cs_futures"]["result()"], calls["stdlib"]["result()"],
             calls["cs_futures"]["result()"] / calls["stdlib"]["result()"], None, None, ""),
            ("the entry point alone (ns)", calls["entry"], None, None, None, None, "")]
    for name in ("submit+result", "map", "as_completed"):
        res = results[name]
        rows.append((f"{name}, 4 workers (ratio)", res["cs_futures"]["median"], res["stdlib"]["median"],
                     res["ratio"], *FLOORS[name], verdict(res["ratio"], name)))
    wake = results["wake-up (8 sub.)"]
    rows.append(("wake-up p90, 8 submitters (ms)", wake["cs_futures"]["median"], wake["stdlib"]["median"],
                 wake["ratio"], None, None, "fair" if wake["fair"] else "UNFAIR (> 3x stdlib + 5 ms)"))
    imp = results["import"]
    delta = imp["native"] - imp["stdlib"]
    rows.append(("import to first result (ms, +over stdlib)", imp["native"], imp["stdlib"], delta,
                 *FLOORS["import +ms"], verdict(delta, "import +ms")))
    return rows


def print_floors(results):
    print(f"{'figure':<42} {'cs_futures':>10} {'stdlib':>9} {'value':>8} {'floor':>6} {'target':>6}  verdict")
    for figure, cs, std, value, floor, target, verdict in floor_rows(results):
        cells = [f"{x:.3g}" if isinstance(x, float) else ("-" if x is None else str(x))
                 for x in (cs, std, value, floor, target)]
        print(f"{figure:<42} {cells[0]:>10} {cells[1]:>9} {cells[2]:>8} {cells[3]:>6} {cells[4]:>6}  {verdict}")


def print_version_table(paths):
    """One Markdown table from several --floors JSON files (one per interpreter)."""
    runs = []
    for path in paths:
        with open(path) as fh:
            data = json.load(fh)
        runs.append((data["implementation"].split()[-1], {row[0]: row for row in floor_rows(data["results"])}))
    figures = list(runs[0][1])
    print("| figure | " + " | ".join(version for version, _ in runs) + " | floor | target |")
    print("|---|" + "---|" * (len(runs) + 2))
    for figure in figures:
        cells = []
        for _, rows in runs:
            _, cs, std, value, floor, target, verdict = rows[figure]
            if figure.startswith(("done()", "the entry")):
                cell = f"{cs:.0f}" + (f" ({std:.0f})" if std is not None else "")
            elif figure.startswith("import"):
                cell = f"+{value:.1f} ({cs:.1f} vs {std:.1f})"
            elif figure.startswith("result()") or figure.startswith("wake-up"):
                cell = f"{cs:.2f} vs {std:.2f}" if figure.startswith("wake") else f"{cs:.0f} ({std:.0f})"
            else:
                cell = f"{value:.2f}"
            if verdict.startswith(("FLOOR", "UNFAIR")):
                cell += " **" + verdict + "**"
            cells.append(cell)
        floor, target = rows[figure][4], rows[figure][5]
        print(f"| {figure} | " + " | ".join(cells) + f" | {'-' if floor is None else floor} | {'-' if target is None else target} |")



def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller N (< 60 s)")
    parser.add_argument("--only", choices=("thread", "process", "interpreter"),
                        help="only the thread-pool (and start-up) or only the process-pool workloads")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--rounds", type=int,
                        help="rounds per workload (default 9, quick 5; the I/O batch runs 3x as many)")
    parser.add_argument("-n", type=int, help="tasks for the per-task workloads")
    parser.add_argument("--startup-runs", type=int, help="subprocess runs per side")
    parser.add_argument("--fresh-rounds", type=int,
                        help="fresh-process rounds per side for the wake-up workloads (default 7, quick 3; "
                             "the first-pool I/O batch runs 2x + 1)")
    parser.add_argument("--engines", action="store_true",
                        help="both engines (native, runtime) beside the stdlib: start-up and per-task ratios")
    parser.add_argument("--per-task-only", action="store_true",
                        help="only the per-task workloads (no fresh-process ones): what --engines runs per engine")
    parser.add_argument("--floors", action="store_true",
                        help="issue 24's figures (call cost, thread-pool ratios, wake-up, import) with verdicts")
    parser.add_argument("--table", nargs="+", metavar="JSON",
                        help="print --floors results of several interpreters as one Markdown table")
    args = parser.parse_args()
    if args.table:
        print_version_table(args.table)
        return

    impl = f"{platform.python_implementation()} {platform.python_version()}"
    print(f"interpreter: {sys.executable} ({impl}), {os.cpu_count()} CPUs")
    print(f"cs_futures: {os.path.dirname(cs_futures.__file__)}")
    print(f"mode: {'quick' if args.quick else 'full'}")
    t0 = time.perf_counter()
    if args.floors:
        results = run_floors(args)
        print()
        print_floors(results)
    elif args.engines:
        results = run_engines(args)
        print()
        print_engines(results)
    elif args.only == "interpreter":
        results = run_interpreter(args)
        print()
        print_interpreter_table(dict(results))
    else:
        results = run(args)
        print()
        print_table(results)
    print(f"(total {time.perf_counter() - t0:.1f} s)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"interpreter": sys.executable, "version": sys.version,
                       "implementation": impl, "cpus": os.cpu_count(),
                       "mode": "quick" if args.quick else "full", "results": results},
                      fh, indent=2)
        print(f"results written to {args.json}")


if __name__ == "__main__":
    main()
