"""Soak: a ProcessPoolExecutor with max_tasks_per_child=1 over many tasks, the parent's resources
measured as it goes (issue 12: descriptors within 10 of the start, memory flat).

    python benchmarks/process_soak.py [--tasks 10000] [--workers 2] [--impl cs|std|both]

Each implementation runs in its own child interpreter (``cs``: cs_futures, ``std``: the standard
library's ProcessPoolExecutor with the 'spawn' context, which max_tasks_per_child requires). Every
task is ``os.getpid`` on a fresh worker process, so the run measures what each worker leaves behind
in the parent: open descriptors (``/proc/self/fd``) and resident memory (VmRSS), sampled after a
warm-up pool and every tenth of the run, and after the shutdown.
"""
import argparse
import gc
import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def soak(impl, tasks, workers):
    if impl == "cs":
        from cs_futures import ProcessPoolExecutor
        make = lambda: ProcessPoolExecutor(workers, max_tasks_per_child=1)  # noqa: E731
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        context = multiprocessing.get_context("spawn")
        make = lambda: ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1)  # noqa: E731
    with make() as warm:  # runtime, sockets and threads that any pool needs, before measuring
        list(warm.map(abs, range(-2 * workers, 0)))
    gc.collect()
    samples = [(0, open_fds(), rss_mib())]
    started = time.monotonic()
    executor = make()
    step = max(tasks // 10, 1)
    pids = set()
    done = 0
    while done < tasks:
        batch = min(100, tasks - done)
        pids.update(f.result() for f in [executor.submit(os.getpid) for _ in range(batch)])
        done += batch
        if done % step == 0 or done == tasks:
            gc.collect()
            samples.append((done, open_fds(), rss_mib()))
    executor.shutdown(wait=True)
    elapsed = time.monotonic() - started
    del executor
    gc.collect()
    samples.append(("after shutdown", open_fds(), rss_mib()))
    return {"impl": impl, "tasks": tasks, "workers": len(pids), "seconds": elapsed, "samples": samples}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--impl", choices=("cs", "std", "both"), default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(soak(args.impl, args.tasks, args.workers)))
        return 0
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(ROOT, "python") + os.pathsep + env.get("PYTHONPATH", "")
    impls = ("cs", "std") if args.impl == "both" else (args.impl,)
    failed = False
    for impl in impls:
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "--impl", impl,
                              "--tasks", str(args.tasks), "--workers", str(args.workers)],
                             env=env, capture_output=True, text=True, check=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        name = "cs_futures" if impl == "cs" else "concurrent.futures"
        print(f"{name}: {result['tasks']} tasks on {result['workers']} worker processes in "
              f"{result['seconds']:.0f} s ({1000 * result['seconds'] / result['tasks']:.1f} ms/task), "
              f"Python {sys.version.split()[0]}")
        print("  tasks done      open fds   RSS (MiB)")
        for done, fds, rss in result["samples"]:
            print(f"  {done!s:>14}  {fds:>8}   {rss:>9.1f}")
        first, last = result["samples"][0], result["samples"][-1]
        growth = last[1] - first[1]
        print(f"  descriptors: {first[1]} -> {last[1]} ({growth:+d}); RSS {first[2]:.1f} -> {last[2]:.1f} MiB")
        if impl == "cs" and growth > 10:
            print("  FAIL: more than 10 descriptors more than at the start")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
