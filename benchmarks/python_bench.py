"""cs_futures against the standard library's concurrent.futures, in one run, alternating.

    python benchmarks/python_bench.py [--quick] [--json FILE]

Each workload runs with both libraries in turns (A, B, A, B, ...); the table gives the median of each
side and the ratio cs_futures / stdlib (below 1: cs_futures is faster). Start-up is measured in fresh
interpreters, from start to the first result.
"""
import argparse
import concurrent.futures as stdlib
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
import cs_futures  # noqa: E402


def identity(x):
    return x


def submit_result(lib, n):
    with lib.ThreadPoolExecutor(4) as executor:
        start = time.perf_counter()
        futures = [executor.submit(identity, i) for i in range(n)]
        for future in futures:
            future.result()
        return (time.perf_counter() - start) / n * 1e6


def map_(lib, n):
    with lib.ThreadPoolExecutor(4) as executor:
        start = time.perf_counter()
        for _ in executor.map(identity, range(n)):
            pass
        return (time.perf_counter() - start) / n * 1e6


def as_completed(lib, n):
    with lib.ThreadPoolExecutor(4) as executor:
        start = time.perf_counter()
        futures = [executor.submit(identity, i) for i in range(n)]
        for future in lib.as_completed(futures):
            future.result()
        return (time.perf_counter() - start) / n * 1e6


def io_batch(lib, n):
    with lib.ThreadPoolExecutor(32) as executor:
        start = time.perf_counter()
        list(executor.map(time.sleep, [0.01] * n))
        return (time.perf_counter() - start) * 1e3


STARTUP = "import {0}; {0}.ThreadPoolExecutor(1).submit(int).result()"


def startup(module):
    env = dict(os.environ, PYTHONPATH=sys.path[0])
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", STARTUP.format(module)], env=env, check=True)
    return (time.perf_counter() - start) * 1e3


def measure(workload, n, rounds):
    ours, theirs = [], []
    for i in range(rounds):
        order = [(cs_futures, ours), (stdlib, theirs)]
        for lib, samples in (order if i % 2 == 0 else order[::-1]):
            samples.append(workload(lib, n))
    return statistics.median(ours), statistics.median(theirs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and tasks (about 20 s)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    rounds, n = (3, 5000) if args.quick else (7, 20000)
    rows = []
    for name, workload, size, unit in (
            ("submit+result, 4 workers", submit_result, n, "us/task"),
            ("map, 4 workers", map_, n, "us/task"),
            ("as_completed, 4 workers", as_completed, n, "us/task"),
            ("I/O batch: 256 x sleep(10 ms), 32 workers", io_batch, 256, "ms total")):
        ours, theirs = measure(workload, size, rounds)
        rows.append({"workload": name, "unit": unit, "cs_futures": ours, "stdlib": theirs, "ratio": ours / theirs})
    ours, theirs = [], []
    for _ in range(rounds):
        ours.append(startup("cs_futures"))
        theirs.append(startup("concurrent.futures"))
    rows.append({"workload": "start-up: interpreter start to first result", "unit": "ms",
                 "cs_futures": statistics.median(ours), "stdlib": statistics.median(theirs),
                 "ratio": statistics.median(ours) / statistics.median(theirs)})

    print(f"Python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} CPUs, "
          f"{rounds} alternating rounds, median")
    print(f"| {'workload':45} | {'unit':8} | {'cs_futures':>10} | {'stdlib':>10} | {'ratio':>6} |")
    print(f"|{'-' * 47}|{'-' * 10}|{'-' * 12}|{'-' * 12}|{'-' * 8}|")
    for row in rows:
        print(f"| {row['workload']:45} | {row['unit']:8} | {row['cs_futures']:10.2f} | {row['stdlib']:10.2f} | "
              f"{row['ratio']:6.2f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"python": sys.version, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
