#!/usr/bin/env python3
"""The cluster executor against Dask distributed, both through the concurrent.futures Executor API.

Sides, alternating order each round (flipped every round), medians reported:
  cluster   cs_futures.ClusterExecutor(max_workers=2): the embedded node (an Orleans silo in this
            process) and its 2 worker processes
  dask      Dask distributed's LocalCluster(n_workers=2, threads_per_worker=1, processes=True) with a
            Client, driven through client.get_executor(pure=False) (every submit a new task, as in
            concurrent.futures; pure=True would return cached results for repeated arguments)

Dask is Debian's python3-distributed (2022.12.1) on Debian's /usr/bin/python3 (3.11): run this script
with that interpreter and the built package on the path, e.g.
  PYTHONPATH=python /usr/bin/python3 benchmarks/dask_bench.py --quick
When Dask is missing, it is installed as scripts/common.sh's need_program does (root or sudo -n:
apt-get install -y --no-install-recommends python3-distributed); otherwise the script says how.

Rows (executors created and warmed up before the clock starts, except the last):
  submit+result    submit N trivial tasks, then result() each (us/task)
  as_completed     submit N trivial tasks, iterate as_completed over them (us/task)
  map              list(ex.map(f, range(M))) (us/task)
  cpu efficiency   40 tasks spinning 50 ms each: ideal time (40 x 50 ms / 2 workers) / measured
  4 MB results     40 tasks each returning 4,000,000 random bytes: MB/s (MB = 10^6 bytes)
  start            executor creation to the first result, in a fresh process per side per round
                   (imports excluded; they are reported in the JSON) (s)

Usage: python benchmarks/dask_bench.py [--quick] [--rounds R] [--start-rounds S] [--json FILE]
A full run is about 3 minutes here (2 CPUs, loaded), --quick under 2.
Ratio = cluster / dask. Verdict: times (us/task, s) are "ahead" below 0.95x Dask's, "level" up to 1.0x,
"BEHIND" above; efficiency and throughput are "ahead" above 1.05x, "level" from 0.95x, "BEHIND" below.
"""
import argparse
import concurrent.futures as std_futures
import gc
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
if ROOT not in sys.path:
    sys.path.append(ROOT)
_T_IMPORT = time.perf_counter()
try:  # a built package on PYTHONPATH wins; else the repository's python/ (built there)
    import cs_futures  # noqa: E402
except ImportError:
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import cs_futures  # noqa: E402
_T_IMPORT = time.perf_counter() - _T_IMPORT

WORKERS = 2
CPU_TASKS, CPU_SECONDS = 40, 0.05
BLOB_TASKS, BLOB_BYTES = 40, 4_000_000
SIDES = ("cluster", "dask")


# -- the tasks (module level: the cluster's workers import them, Dask pickles them by value) --------

def task(x):
    return x


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return seconds


def blob(i):
    # 4 MB of random bytes, made once per worker process (kept on sys so that Dask's by-value
    # pickling of this function still finds it), so the row measures moving results, not urandom.
    data = getattr(sys, "_dask_bench_blob", None)
    if data is None:
        data = sys._dask_bench_blob = os.urandom(BLOB_BYTES)
    return data


# -- Dask -----------------------------------------------------------------------------------------

def need_dask():
    """Import Dask distributed, installing Debian's python3-distributed when it is missing."""
    try:
        import distributed  # noqa: F401
        return
    except ImportError:
        pass
    how = ("apt-get install -y --no-install-recommends python3-distributed, then run this script "
           "with /usr/bin/python3")
    if sys.executable != "/usr/bin/python3" and os.path.realpath(sys.executable) != os.path.realpath(
            "/usr/bin/python3"):
        sys.exit(f"Dask distributed is not importable from {sys.executable}; it is Debian's "
                 f"python3-distributed on /usr/bin/python3: {how}")
    sudo = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if sudo is None or not shutil.which("apt-get"):
        sys.exit(f"Dask distributed is missing: {how} (as root)")
    print("== installing python3-distributed (Debian package) for the Dask side", file=sys.stderr,
          flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    done = subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                                  "python3-distributed"], env=env, stdout=subprocess.DEVNULL)
    try:
        import importlib
        importlib.invalidate_caches()
        import distributed  # noqa: F401
    except ImportError:
        sys.exit(f"could not install python3-distributed (exit {done.returncode}): {how}")


class DaskSide:
    """LocalCluster + Client + client.get_executor(), closed together."""

    def __init__(self):
        from distributed import Client, LocalCluster
        self.cluster = LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                                    dashboard_address=None)
        self.client = Client(self.cluster)
        self.executor = self.client.get_executor(pure=False)

    def close(self):
        self.executor.shutdown(wait=True)
        self.client.close()
        self.cluster.close()


def make_side(side):
    """(executor, close) for a side."""
    if side == "cluster":
        ex = cs_futures.ClusterExecutor(max_workers=WORKERS)
        return ex, lambda: ex.shutdown(wait=True)
    d = DaskSide()
    return d.executor, d.close


# -- timed workloads: body(ex, side, n) -> the figure of the row ------------------------------------

def _warm(ex):
    for f in [ex.submit(time.sleep, 0.05) for _ in range(WORKERS)]:  # both workers up
        f.result()
    gc.collect()


def submit_result(ex, side, n):
    t0 = time.perf_counter()
    fs = [ex.submit(task, i) for i in range(n)]
    for f in fs:
        f.result()
    return (time.perf_counter() - t0) / n * 1e6


def as_completed(ex, side, n):
    wait = cs_futures.as_completed if side == "cluster" else std_futures.as_completed
    t0 = time.perf_counter()
    fs = [ex.submit(task, i) for i in range(n)]
    assert sum(1 for _ in wait(fs)) == n
    return (time.perf_counter() - t0) / n * 1e6


def map_all(ex, side, n):
    t0 = time.perf_counter()
    assert len(list(ex.map(task, range(n)))) == n
    return (time.perf_counter() - t0) / n * 1e6


def cpu_efficiency(ex, side, n):
    t0 = time.perf_counter()
    fs = [ex.submit(spin, CPU_SECONDS) for _ in range(n)]
    for f in fs:
        f.result()
    return (n * CPU_SECONDS / WORKERS) / (time.perf_counter() - t0)


def blob_throughput(ex, side, n):
    t0 = time.perf_counter()
    fs = [ex.submit(blob, i) for i in range(n)]
    total = sum(len(f.result()) for f in fs)
    assert total == n * BLOB_BYTES
    return total / 1e6 / (time.perf_counter() - t0)


# name, body, N, N with --quick, unit, higher is better
WORKLOADS = [
    ("submit+result", submit_result, 2000, 500, "us/task", False),
    ("as_completed", as_completed, 2000, 500, "us/task", False),
    ("map", map_all, 5000, 1000, "us/task", False),
    ("cpu efficiency", cpu_efficiency, CPU_TASKS, CPU_TASKS, "", True),
    ("4 MB results", blob_throughput, BLOB_TASKS, BLOB_TASKS, "MB/s", True),
]


def run_timed(args, rounds):
    executors, closers = {}, []
    try:
        for side in SIDES:
            ex, close = make_side(side)
            executors[side] = ex
            closers.append(close)
            _warm(ex)
        results = {}
        for name, body, n, quick_n, unit, higher in WORKLOADS:
            n = quick_n if args.quick else n
            samples = {side: [] for side in SIDES}
            for r in range(rounds + 1):
                order = list(SIDES) if r % 2 == 0 else list(SIDES)[::-1]
                for side in order:
                    ex = executors[side]
                    _warm(ex)
                    if r == 0:  # an untimed warm-up round, smaller
                        body(ex, side, min(n, 200))
                    else:
                        samples[side].append(body(ex, side, n))
            results[name] = _row(samples, n, unit, higher)
            print(f"  ... {name}: done", file=sys.stderr, flush=True)
        return results
    finally:
        for close in closers:
            try:
                close()
            except Exception as e:  # a failed close must not hide the figures
                print(f"  (closing an executor: {e!r})", file=sys.stderr)


# -- start to first result, in fresh processes --------------------------------------------------

def start_child(side):
    """Run in the child: import, create the executor, first result; print the times as JSON."""
    t0 = time.perf_counter()
    if side == "dask":
        import distributed  # noqa: F401
    imported = time.perf_counter()
    import_s = imported - t0 if side == "dask" else _T_IMPORT
    ex, close = make_side(side)
    assert ex.submit(task, 1).result() == 1
    first = time.perf_counter()
    print(json.dumps({"import": import_s, "start": first - imported}), flush=True)
    close()


def run_start(args, rounds):
    samples = {side: [] for side in SIDES}
    imports = {side: [] for side in SIDES}
    for r in range(rounds):
        order = list(SIDES) if r % 2 == 0 else list(SIDES)[::-1]
        for side in order:
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--start-child", side],
                                  stdout=subprocess.PIPE, text=True, timeout=180)
            lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
            if not lines:
                raise RuntimeError(f"start of {side} (round {r}) printed no time; exit {proc.returncode}")
            figures = json.loads(lines[-1])
            samples[side].append(figures["start"])
            imports[side].append(figures["import"])
    row = _row(samples, 1, "s", False)
    row["import s"] = {side: statistics.median(v) for side, v in imports.items()}
    print("  ... start: done", file=sys.stderr, flush=True)
    return row


# -- the table ----------------------------------------------------------------------------------

def _row(samples, n, unit, higher):
    row = {side: statistics.median(v) for side, v in samples.items()}
    row.update(n=n, unit=unit, higher_is_better=higher, samples=samples)
    row["ratio"] = row["cluster"] / row["dask"]
    if higher:
        row["verdict"] = "ahead" if row["ratio"] > 1.05 else "level" if row["ratio"] >= 0.95 else "BEHIND"
    else:
        row["verdict"] = "ahead" if row["ratio"] < 0.95 else "level" if row["ratio"] <= 1.0 else "BEHIND"
    return row


def _fmt(value, unit):
    if unit == "us/task":
        return f"{value:,.0f} us"
    if unit == "MB/s":
        return f"{value:,.0f} MB/s"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.2f}"


def print_table(results, rounds, start_rounds):
    header = f"{'workload':<15} {'N':>6} {'cluster':>11} {'dask':>11} {'ratio':>6}  verdict"
    print(header)
    print("-" * len(header))
    for name, row in results.items():
        print(f"{name:<15} {row['n']:>6} {_fmt(row['cluster'], row['unit']):>11} "
              f"{_fmt(row['dask'], row['unit']):>11} {row['ratio']:>6.2f}  {row['verdict']}")
    imports = results["start"]["import s"]
    print(f"medians of {rounds} rounds ({start_rounds} for start); ratio = cluster / dask; us = us/task; "
          f"efficiency = ideal / measured ({WORKERS} workers); start = executor creation to first result, "
          f"fresh process; the imports before it: cluster {imports['cluster']:.2f} s, "
          f"dask {imports['dask']:.2f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller N for the per-task rows (3 rounds)")
    parser.add_argument("--rounds", type=int, help="timed rounds per row (default 3)")
    parser.add_argument("--start-rounds", type=int,
                        help="fresh processes per side for the start row (default 5, quick 3)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--start-child", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.start_child:  # the parent made sure Dask is there
        start_child(args.start_child)
        return
    need_dask()
    import distributed
    # Dask's GC monitor counts this benchmark's own gc.collect() before each timed section
    logging.getLogger("distributed.utils_perf").setLevel(logging.ERROR)
    rounds = args.rounds or 3
    start_rounds = args.start_rounds or (3 if args.quick else 5)
    load = os.getloadavg()
    print(f"Python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} CPUs, "
          f"Dask distributed {distributed.__version__}, load average {load[0]:.2f} at start", flush=True)
    t0 = time.monotonic()
    results = run_timed(args, rounds)
    results["start"] = run_start(args, start_rounds)
    load_end = os.getloadavg()
    print_table(results, rounds, start_rounds)
    print(f"load average {load[0]:.2f} at start, {load_end[0]:.2f} at end (1 min); "
          f"{time.monotonic() - t0:.0f} s in all")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": sys.version.split()[0], "dask": distributed.__version__,
                       "rounds": rounds, "start_rounds": start_rounds, "quick": args.quick, "load": [load[0], load_end[0]],
                       "rows": results}, f, indent=2)


if __name__ == "__main__":
    main()
