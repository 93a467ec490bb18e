#!/usr/bin/env python3
"""The cluster executor against CPython's ProcessPoolExecutor(2), in the same run.

Standard library only. Sides, alternating order each round, medians reported:
  cluster   cs_futures.ClusterExecutor(max_workers=2): the embedded node (an Orleans silo in this
            process) and its 2 worker processes
  stdlib    concurrent.futures.ProcessPoolExecutor(2)
  process   cs_futures.ProcessPoolExecutor(2), for reference

Workloads (executor created and warmed up before the clock starts):
  submit+result   submit N trivial tasks, then result() each (us/task)
  map cs=1        list(ex.map(f, range(N))) (us/task)
  map cs=100      the same with chunksize=100 (us/task)

Then, with three nodes started as separate processes on loopback (python -m cs_futures.cluster
worker, 1 worker process each; --nodes 0 skips this part):
  tasks per second   20,000 trivial tasks submitted at once, all results read
  after SIGKILL      20,000 tasks, one non-primary node killed at 30 % of the results: seconds from
                     the kill to the last result, and the attempts the executor counted

Usage: python benchmarks/cluster_bench.py [--quick] [--rounds R] [-n N] [--nodes 3] [--json FILE]
Ratio = cluster / stdlib: below 1 means the cluster executor is faster.
"""
import argparse
import concurrent.futures as std_futures
import gc
import json
import os
import statistics
import sys
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
for path in (os.path.join(ROOT, "python"), ROOT):
    if path not in sys.path:
        sys.path.insert(0, path)

import cs_futures  # noqa: E402


def task(x):
    return x


def _sides():
    return {
        "cluster": lambda: cs_futures.ClusterExecutor(max_workers=2),
        "stdlib": lambda: std_futures.ProcessPoolExecutor(2),
        "process": lambda: cs_futures.ProcessPoolExecutor(2),
    }


def _timed(ex, body):
    for f in [ex.submit(time.sleep, 0.05) for _ in range(2)]:  # both workers up
        f.result()
    gc.collect()
    t0 = time.perf_counter()
    body(ex)
    return time.perf_counter() - t0


def submit_result(ex, n):
    fs = [ex.submit(task, i) for i in range(n)]
    for f in fs:
        f.result()


def map_cs(chunksize):
    def body(ex, n):
        assert len(list(ex.map(task, range(n), chunksize=chunksize))) == n
    return body


WORKLOADS = [
    ("submit+result", submit_result, 2000),
    ("map cs=1", map_cs(1), 2000),
    ("map cs=100", map_cs(100), 20000),
]


def run_local(args):
    rounds = args.rounds or (3 if args.quick else 7)
    sides = _sides()
    executors = {name: make() for name, make in sides.items()}  # one each, reused (warm)
    results = {}
    try:
        for name, body, n in WORKLOADS:
            n = args.n or (n // 4 if args.quick else n)
            samples = {side: [] for side in sides}
            for r in range(rounds + 1):
                order = list(sides) if r % 2 == 0 else list(sides)[::-1]
                for side in order:
                    seconds = _timed(executors[side], lambda ex: body(ex, n))
                    if r:  # round 0 is an untimed warm-up
                        samples[side].append(seconds / n * 1e6)
            res = {side: statistics.median(v) for side, v in samples.items()}
            res["n"] = n
            res["ratio"] = res["cluster"] / res["stdlib"]
            results[name] = res
            print(f"  ... {name}: done", file=sys.stderr, flush=True)
    finally:
        for ex in executors.values():
            ex.shutdown(wait=True)
    return results


def run_nodes(args):
    from tests.python.cluster_nodes import Node
    n = 5000 if args.quick else 20_000
    out = {}
    nodes = []
    try:
        primary = Node("--primary")
        nodes = [primary] + [Node("--seed", primary.silo) for _ in range(args.nodes - 1)]
        with cs_futures.ClusterExecutor(primary.gateway) as ex:
            for f in [ex.submit(time.sleep, 0.05) for _ in range(2 * len(nodes))]:
                f.result(60)
            t0 = time.perf_counter()
            fs = [ex.submit(task, i) for i in range(n)]
            for f in fs:
                f.result(120)
            out["tasks per second"] = n / (time.perf_counter() - t0)
            if len(nodes) > 1:
                victim = nodes[1]
                fs = [ex.submit(task, i) for i in range(n)]
                killed = None
                for i, f in enumerate(cs_futures.as_completed(fs, timeout=240)):
                    if killed is None and i >= n * 3 // 10:
                        victim.kill()
                        killed = time.monotonic()
                out["last result after SIGKILL (s)"] = time.monotonic() - killed
                stats = ex.stats()
                out["attempts lost"] = stats["attempts_lost"]
                out["lost before start"] = stats["lost_before_start"]
                assert [f.result(0) for f in fs] == list(range(n))
        out["tasks"] = n
        out["nodes"] = len(nodes)
    finally:
        for node in nodes:
            node.stop()
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller N")
    parser.add_argument("--rounds", type=int, help="timed rounds per workload (default 7, quick 3)")
    parser.add_argument("-n", type=int, help="tasks per round")
    parser.add_argument("--nodes", type=int, default=3, help="nodes for the multi-node part (0: skip)")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs", flush=True)
    results = {"local": run_local(args)}
    header = f"{'workload':<14} {'N':>6} {'cluster':>9} {'stdlib':>9} {'cs process':>10} {'ratio':>6}  verdict"
    print(header)
    print("-" * len(header))
    for name, res in results["local"].items():
        verdict = "OK" if res["ratio"] <= 1.0 else "SLOWER"
        print(f"{name:<14} {res['n']:>6} {res['cluster']:>9.1f} {res['stdlib']:>9.1f} "
              f"{res['process']:>10.1f} {res['ratio']:>6.2f}  {verdict}")
    print("us/task, median of the rounds; ratio = cluster / stdlib ProcessPoolExecutor(2)")
    if args.nodes:
        results["nodes"] = run_nodes(args)
        for key, value in results["nodes"].items():
            print(f"  {key}: {value:.1f}" if isinstance(value, float) else f"  {key}: {value}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
