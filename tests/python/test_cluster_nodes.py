"""ClusterExecutor against nodes started as separate processes with ``python -m cs_futures.cluster
worker`` on loopback: a node killed with SIGKILL mid-run loses nothing, a node joining mid-run
gets work, work submitted before any node runs once one joins, SIGTERM stops a node and its
workers, and ``python -m cs_futures --cluster`` runs an unmodified ProcessPoolExecutor script on
the cluster."""
import os
import signal
import tempfile
import time
import unittest

import subprocess

from cs_futures import ClusterExecutor, as_completed
from cs_futures import cluster

from . import cluster_tasks as tasks
from .cluster_nodes import Node, RedisServer, pid_alive, wait_until
from .support import run_child

LONG = 60


class NodesTest(unittest.TestCase):

    def setUp(self):
        self.nodes = []

    def tearDown(self):
        for node in self.nodes:
            node.stop()

    def node(self, *args, workers=1):
        node = Node(*args, workers=workers)
        self.nodes.append(node)
        return node

    def test_sigkill_of_a_node_mid_run_loses_nothing(self):
        primary = self.node("--primary")
        others = [self.node("--seed", primary.silo) for _ in range(2)]
        victim = others[0]
        victim_workers = victim.worker_pids()
        n = 20_000
        with ClusterExecutor(primary.gateway) as ex:
            futures = [ex.submit(tasks.square, i) for i in range(n)]
            done = 0
            killed_at = None
            for future in as_completed(futures, timeout=240):
                done += 1
                if killed_at is None and done >= n * 3 // 10:
                    victim_workers = victim.worker_pids() or victim_workers
                    victim.kill()
                    killed_at = time.monotonic()
            last = time.monotonic()
            self.assertLess(last - killed_at, LONG, "results still pending a minute after the kill")
            self.assertEqual([f.result(0) for f in futures], [i * i for i in range(n)])
            stats = ex.stats()
        self.assertTrue(victim_workers)
        wait_until(lambda: not any(pid_alive(p) for p in victim_workers), 10,
                   "the killed node's workers %s outlived it" % victim_workers)
        self.assertEqual(stats["queued"] + stats["in_flight"], 0)
        print("\n  20,000 tasks on 3 nodes, SIGKILL at 30%%: last result %.1f s after the kill; %s"
              % (last - killed_at, stats))

    def test_submit_before_any_node_then_a_node_joining_mid_run_gets_work(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        port = _free_port()
        with ClusterExecutor("127.0.0.1:%d" % port) as ex:
            early = [ex.submit(tasks.pid_of, i) for i in range(4)]
            self.assertFalse(any(f.done() for f in early))
            primary = self.node("--primary", "--gateway-port", str(port))
            first = {f.result(LONG) for f in early}
            self.assertTrue(first <= set(primary.worker_pids()) | first)
            release = os.path.join(folder.name, "go")
            held = [ex.submit(tasks.wait_for_file, release, i) for i in range(1)]
            wait_until(lambda: all(f.running() for f in held), LONG, "the primary never took the task")
            joiner = self.node("--seed", primary.silo)
            later = [ex.submit(tasks.pid_of, i) for i in range(20)]
            pids = {f.result(LONG) for f in later}
            open(release, "w").close()
            self.assertTrue(pids & set(joiner.worker_pids()),
                            "the node that joined mid-run got none of the work")

    def test_a_task_that_kills_its_own_node_fails_with_killed_worker(self):
        # Redis membership (any node may die): a task that SIGKILLs the node running it kills one
        # node per attempt; with allowed_failures=1 it fails with KilledWorker once two nodes died,
        # and the nodes left serve the rest of the run. Four nodes, so that two are left: Orleans
        # declares a silo dead on two votes, and a lone survivor of three whose two peers died within
        # a second cannot cast them (a limitation listed in docs/cluster.md).
        redis = RedisServer()
        self.addCleanup(redis.stop)
        nodes = [self.node("--cluster", redis.address) for _ in range(4)]
        with ClusterExecutor(redis.address, allowed_failures=1) as ex:
            self.assertEqual(ex.submit(tasks.square, 5).result(LONG), 25)
            doomed = ex.submit(tasks.kill_my_node)
            with self.assertRaises(cluster.KilledWorker) as caught:
                doomed.result(LONG * 2)
            self.assertEqual(caught.exception.attempts, 2)
            # The executor sees a node's connection refused as soon as the kernel closes its sockets,
            # which can be some milliseconds before the dying process can be reaped.
            wait_until(lambda: sum(n.proc.poll() is not None for n in nodes) >= 2, 10, "two nodes died")
            dead = [n for n in nodes if n.proc.poll() is not None]
            self.assertEqual(len(dead), 2, "one node per attempt")
            self.assertIn(caught.exception.last_node, [n.node_id for n in dead])
            self.assertEqual(ex.submit(tasks.square, 6).result(LONG), 36)

    def test_sigterm_stops_a_node_and_its_workers(self):
        primary = self.node("--primary", workers=2)
        with ClusterExecutor(primary.gateway) as ex:
            self.assertEqual(ex.submit(tasks.square, 3).result(LONG), 9)
        workers = primary.worker_pids()
        self.assertEqual(primary.stop(), 0)
        self.assertIn("node stopping", primary.lines)
        wait_until(lambda: not any(pid_alive(p) for p in workers), 10, "workers outlived the node")

    def test_migration_runs_a_process_pool_script_on_the_cluster(self):
        primary = self.node("--primary", workers=2)
        script = (
            "import concurrent.futures as cf, os\n"
            "def work(x):\n"
            "    return x * 2, os.getpid()\n"
            "def init(tag):\n"
            "    global TAG\n"
            "    TAG = tag\n"
            "def tagged(x):\n"
            "    return TAG + str(x)\n"
            "if __name__ == '__main__':\n"
            "    with cf.ProcessPoolExecutor(max_workers=2) as ex:\n"
            "        results = list(ex.map(work, range(10)))\n"
            "        print(type(ex).__name__, [r for r, _ in results])\n"
            "        print('local' if any(p == os.getpid() for _, p in results) else 'remote')\n"
            "    with cf.ProcessPoolExecutor(2, initializer=init, initargs=('t',)) as ex:\n"
            "        print(list(ex.map(tagged, range(3))))\n")
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(script)
        self.addCleanup(os.unlink, f.name)
        code, out, err = run_child(["-m", "cs_futures", "--cluster", primary.gateway, f.name], timeout=LONG)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.splitlines(), ["ProcessPoolExecutor [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]",
                                            "remote", "['t0', 't1', 't2']"])


class TlsTest(unittest.TestCase):
    """Mutual TLS from Python: certificates made with openssl (test.sh installs it when missing)."""

    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)
        self.ca = self.authority("ca")
        self.leaf = self.certificate("node", self.ca)

    def openssl(self, *args):
        subprocess.run(["openssl", *args], cwd=self.folder.name, check=True, capture_output=True)

    def authority(self, name):
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
                     "-subj", "/CN=" + name)
        return os.path.join(self.folder.name, name)

    def certificate(self, name, ca):
        self.openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + name)
        self.openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                     "-CAcreateserial", "-out", name + ".crt", "-days", "2")
        path = os.path.join(self.folder.name, name + ".pem")
        with open(path, "w") as out:
            for part in (name + ".crt", name + ".key"):
                with open(os.path.join(self.folder.name, part)) as f:
                    out.write(f.read())
        return path

    def test_tls_nodes_serve_an_executor_with_a_certificate_and_refuse_one_without(self):
        node = Node("--primary", "--tls-cert", self.leaf, "--tls-ca", self.ca + ".pem")
        self.addCleanup(node.stop)
        self.assertIn("(mutual TLS)", " ".join(node.lines))
        with ClusterExecutor(node.gateway, tls_cert=self.certificate("client", self.ca),
                             tls_ca=self.ca + ".pem") as ex:
            self.assertEqual(ex.submit(tasks.square, 12).result(LONG), 144)
        with ClusterExecutor(node.gateway, connect_timeout=3) as ex:
            future = ex.submit(tasks.square, 2)
            with self.assertRaisesRegex(cluster.ClusterUnavailable, "TLS"):
                future.result(LONG)
        intruder = self.certificate("intruder", self.authority("other"))
        with ClusterExecutor(node.gateway, tls_cert=intruder, tls_ca=self.ca + ".pem",
                             connect_timeout=3) as ex:
            with self.assertRaises(cluster.ClusterUnavailable):
                ex.submit(tasks.square, 2).result(LONG)
        with self.assertRaisesRegex(ValueError, "both tls_cert and tls_ca"):
            ClusterExecutor(node.gateway, tls_cert=self.leaf)


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    unittest.main()
