"""The worker package ``_cs_futures_worker``: one package, one name, one bootstrap. It imports and
serves tasks with the standard library alone (no cs_futures, no ctypes, no .NET), from a copy of its
own as a .NET host writes one, and the Python package, .NET hosts and cluster nodes start their
workers with the same command line. Real interpreters and sockets, no mocks."""
import json
import os
import pickle
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import unittest

import _cs_futures_worker
from _cs_futures_worker import _host

from .support import PACKAGE_PATH, TIMEOUT

SOURCE = os.path.join(PACKAGE_PATH, "_cs_futures_worker")

# The engine's frame protocol (Futures.Native/Processes/WorkerProtocol.cs; _worker.py).
HEADER = struct.Struct("<IBq")
INIT, TASK, STOP = 1, 2, 3
READY, OK = 10, 12

# What the child reports: the modules outside the standard library, and those the worker must not load.
PROBE = ("sorted(name for name in __import__('sys').modules if name not in ('__main__', '__mp_main__') "
         "and name.split('.')[0] not in __import__('sys').stdlib_module_names "
         "or name.startswith(('cs_futures', 'ctypes', 'clr')))")
WORKER_MODULES = ["_cs_futures_worker", "_cs_futures_worker.__main__", "_cs_futures_worker._serialize",
                  "_cs_futures_worker._worker"]


class WorkerPackageTests(unittest.TestCase):
    def setUp(self):
        # A copy alone in a folder, as WorkerPackage.cs writes one: nothing else is importable beside it.
        self.folder = tempfile.mkdtemp(prefix="csf-worker-test-")
        self.addCleanup(shutil.rmtree, self.folder, True)
        shutil.copytree(SOURCE, os.path.join(self.folder, "_cs_futures_worker"),
                        ignore=shutil.ignore_patterns("__pycache__"))

    def isolated(self, *args):
        """The interpreter with the standard library alone: -I (no environment, no user site) and
        -S (no site-packages, so no cloudpickle either)."""
        return [sys.executable, "-I", "-S", *args]

    def test_the_package_imports_with_the_standard_library_alone(self):
        code = ("import sys; sys.path.insert(0, %r)\n"
                "import _cs_futures_worker, _cs_futures_worker._worker, _cs_futures_worker._serialize\n"
                "import _cs_futures_worker._interpreter_calls, _cs_futures_worker._host\n"
                "import _cs_futures_worker.__main__\n"
                "import json; print(json.dumps(%s))" % (self.folder, PROBE))
        result = subprocess.run(self.isolated("-c", code), capture_output=True, text=True, timeout=TIMEOUT)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), [
            "_cs_futures_worker", "_cs_futures_worker.__main__", "_cs_futures_worker._host",
            "_cs_futures_worker._interpreter_calls", "_cs_futures_worker._serialize",
            "_cs_futures_worker._worker"])

    def test_a_worker_started_by_the_bootstrap_serves_tasks_with_the_standard_library_alone(self):
        # The engine's side, in Python: a socket the worker connects to, Init, a task, Stop.
        with tempfile.TemporaryDirectory(prefix="csf-sock-") as sockets, \
                socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            address = os.path.join(sockets, "worker")
            server.bind(address)
            server.listen(1)
            server.settimeout(TIMEOUT)
            command = self.isolated(*_cs_futures_worker.worker_arguments(folder=self.folder))
            env = {"CS_FUTURES_WORKER_SOCKET": address, "PATH": os.environ.get("PATH", "")}
            worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      cwd=self.folder)
            try:
                conn, _ = server.accept()
                with conn, conn.makefile("rb") as reader:
                    conn.settimeout(TIMEOUT)

                    def send(kind, task_id, body=b""):
                        conn.sendall(HEADER.pack(len(body), kind, task_id) + body)

                    def recv():
                        length, kind, task_id = HEADER.unpack(reader.read(HEADER.size))
                        return kind, task_id, reader.read(length)

                    send(INIT, 0)  # no settings: the worker keeps its own sys.path
                    self.assertEqual(recv()[:2], (READY, 0))
                    send(TASK, 7, pickle.dumps((eval, (PROBE,), {})))
                    kind, task_id, body = recv()
                    self.assertEqual((kind, task_id), (OK, 7))
                    self.assertEqual(pickle.loads(body), WORKER_MODULES)
                    send(STOP, 0)
                _, stderr = worker.communicate(timeout=TIMEOUT)
                self.assertEqual(worker.returncode, 0, stderr)
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.communicate()

    def test_python_package_and_dotnet_hosts_build_the_same_command(self):
        import cs_futures.process
        location = _cs_futures_worker.location()
        self.assertEqual(location, PACKAGE_PATH)
        flags = subprocess._args_from_interpreter_flags()
        # The Python package's process pool (and python -m cs_futures.cluster's node, which adds
        # "cluster-node").
        self.assertEqual(cs_futures.process._worker_arguments(), _cs_futures_worker.worker_arguments(flags))
        self.assertEqual(cs_futures.process._worker_arguments()[-2:],
                         _cs_futures_worker.worker_arguments(folder=location))
        # A .NET host's (PythonWorkerHost reads _host.worker_command for its private copy).
        self.assertEqual(_host.worker_command(self.folder, sys.executable),
                         (sys.executable, _cs_futures_worker.worker_arguments(folder=self.folder)))

    def test_the_worker_modules_live_only_in_the_worker_package(self):
        # One name: cs_futures has no copies of them (pickles name _cs_futures_worker's).
        import cs_futures.process
        for name in ("_worker", "_serialize", "_interpreter_calls", "_host"):
            self.assertFalse(os.path.exists(os.path.join(PACKAGE_PATH, "cs_futures", name + ".py")), name)
        self.assertEqual(cs_futures.process._process_chunk.__module__, "_cs_futures_worker._worker")


if __name__ == "__main__":
    unittest.main()
