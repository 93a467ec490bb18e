"""The cluster's soak (issue 22; not in CI): SIGKILL cycles of the setup in which a stall was seen.

Redis membership, three nodes with ``--workers 1``, an executor ``ClusterExecutor("redis://...")`` in
a process that earlier used the embedded cluster and a development-clustering run. Each cycle submits
TASKS tasks of 2 ms, SIGKILLs a victim once 30 % of them completed, waits for every result, then
restarts the victim. The victim is the first-started node (``--victim first``, the original report),
or a random node (``--victim random``).

Per cycle it records the time from the kill to the last result (which includes running the 70 % of
the tasks left on two nodes), and from the kill to the last result of the tasks in flight at the kill
(those of the victim run again elsewhere); a cycle whose results are not all in within STALL seconds is
a stall. A false death is a node that was not killed but exited, or that
another node logged as dead (``node died or left: ID``): on a loaded machine Orleans may declare a
healthy silo dead and make it stop.

    python3 scripts/cluster_soak.py [--cycles 60] [--tasks 5000] [--victim first|random] [--stall 120]

Run it from the repository root after a build (``source scripts/common.sh; build_all``), with the
interpreter the package was built for. Prints one line per cycle, then the figures: cycles, stalls,
false deaths, time from kill to last result (median, max). Exit status 1 on any stall or false death.
"""
import argparse
import os
import random
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.environ["PYTHONPATH"] = ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")

from tests.python.cluster_nodes import Node, RedisServer  # noqa: E402
from tests.python import cluster_tasks as tasks  # noqa: E402
from cs_futures import ClusterExecutor  # noqa: E402


def warm_up():
    """What the executor process did before the stall was seen: the embedded cluster, then a
    development-clustering run."""
    with ClusterExecutor(max_workers=1) as ex:
        assert ex.submit(tasks.square, 3).result(60) == 9
    primary = Node("--primary")
    seed = Node("--seed", primary.silo)
    try:
        with ClusterExecutor(primary.gateway) as ex:
            assert list(ex.map(tasks.square, range(20), timeout=60)) == [x * x for x in range(20)]
    finally:
        seed.stop()
        primary.stop()


def false_deaths(nodes, killed):
    """Nodes not killed (ids not in *killed*) that exited, or that a node logged as dead."""
    dead = set()
    for node in nodes:
        if node.proc.poll() is not None:
            dead.add(node.node_id)
        for line in list(node.lines):
            if line.startswith("node died or left: "):
                dead.add(line.split(": ", 1)[1].strip())
    return dead - killed


# The tasks in flight when the victim is killed are the first ones pending then (tasks are handed out in
# order, and tasks taken back go to the front of the queue): at most TasksPerWorker (2) per node of one
# worker, 6 on three nodes; the first IN_FLIGHT pending cover them.
IN_FLIGHT = 8


def cycle(redis, nodes, victim, count, stall):
    """One cycle; returns (seconds from the kill to the last result, seconds from the kill to the last
    result of the tasks in flight at the kill, the stats), the times None on a stall."""
    done = threading.Event()
    thirty = threading.Event()
    left = [count]
    lock = threading.Lock()
    finished = {}

    def on_done(f):
        finished[f] = time.monotonic()
        with lock:
            left[0] -= 1
            if left[0] == count - count * 3 // 10:
                thirty.set()
            if left[0] == 0:
                done.set()

    with ClusterExecutor(redis.address) as ex:
        futures = []
        for i in range(count):
            f = ex.submit(tasks.sleep_then, 0.002, i)
            f.add_done_callback(on_done)
            futures.append(f)
        if not thirty.wait(stall):
            return None, None, ex.stats()
        victim.kill()
        killed = time.monotonic()
        in_flight = [f for f in futures if not f.done()][:IN_FLIGHT]
        if not done.wait(stall):
            stats = ex.stats()
            ex.shutdown(wait=False, cancel_futures=True)
            return None, None, stats
        last = time.monotonic() - killed
        rerun = max(finished[f] for f in in_flight) - killed if in_flight else 0.0
        wrong = [i for i, f in enumerate(futures) if f.exception() is not None or f.result() != i]
        if wrong:
            raise AssertionError("wrong results for tasks %s" % wrong[:10])
        return last, rerun, ex.stats()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=60)
    parser.add_argument("--tasks", type=int, default=5000)
    parser.add_argument("--victim", choices=["first", "random"], default="first")
    parser.add_argument("--stall", type=float, default=120.0, help="seconds without completion that count as a stall")
    args = parser.parse_args()

    warm_up()
    redis = RedisServer()
    nodes = [Node("--cluster", redis.address) for _ in range(3)]
    times, reruns, stalls, false, killed = [], [], 0, set(), set()
    try:
        for n in range(1, args.cycles + 1):
            victim = nodes[0] if args.victim == "first" else random.choice(nodes)
            killed.add(victim.node_id)
            last, rerun, stats = cycle(redis, nodes, victim, args.tasks, args.stall)
            false |= false_deaths(nodes, killed)
            if last is None:
                stalls += 1
                print("cycle %d: STALL; stats %s" % (n, stats), flush=True)
                for node in nodes:
                    print("--- node %s\n%s" % (node.node_id, "\n".join(node.lines[-40:])), flush=True)
            else:
                times.append(last)
                reruns.append(rerun)
                print("cycle %d: last result %.1f s after the kill, the tasks in flight at the kill done %.1f s after it; "
                      "attempts lost %d, lost before start %d, reclaimed %d, late results dropped %d" % (
                          n, last, rerun, stats["attempts_lost"], stats["lost_before_start"], stats["reclaimed"],
                          stats["late_results_dropped"]), flush=True)
            # The victim comes back, as the first-started node again when it was the first.
            victim.stop()
            index = nodes.index(victim)
            nodes[index] = Node("--cluster", redis.address)
            if args.victim == "first":
                nodes.insert(0, nodes.pop(index))
            # Survivors that died on their own are replaced too (and counted as false deaths above).
            for i, node in enumerate(nodes):
                if node.proc.poll() is not None:
                    node.stop()
                    nodes[i] = Node("--cluster", redis.address)
    finally:
        for node in nodes:
            node.stop()
        redis.stop()
    if false:
        print("false deaths: %s" % ", ".join(sorted(false)))
    print("cycles %d, stalls %d, false deaths %d, kill to last result: median %s s, max %s s; "
          "kill to the last result of the tasks in flight at the kill: median %s s, max %s s" % (
              args.cycles, stalls, len(false),
              "%.1f" % statistics.median(times) if times else "-", "%.1f" % max(times) if times else "-",
              "%.1f" % statistics.median(reruns) if reruns else "-", "%.1f" % max(reruns) if reruns else "-"))
    return 1 if stalls or false else 0


if __name__ == "__main__":
    sys.exit(main())
