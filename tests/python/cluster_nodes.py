"""Cluster nodes as separate processes (``python -m cs_futures.cluster worker``) for the tests:
started on loopback, their output read line by line, stopped (or killed) at the end."""
import os
import re
import signal
import subprocess
import sys
import threading
import time

from .support import child_env

_STARTED = re.compile(r"node started: (\S+) silo (\S+) gateway (\S+)")


class Node:
    """One node process; ``gateway`` and ``silo`` are HOST:PORT once it serves."""

    def __init__(self, *args, workers=1, timeout=60):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cs_futures.cluster", "worker", "--workers", str(workers), *args],
            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.lines = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        match = self.wait_for(_STARTED, timeout)
        self.node_id, self.silo, self.gateway = match.groups()

    def _read(self):
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern, timeout):
        """The first output line matching *pattern* (a regex), waiting up to *timeout* seconds."""
        pattern = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    match = pattern.search(line)
                    if match:
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._alive_reader()):
                    raise AssertionError("no line matching %r from the node within %s s; output:\n%s"
                                         % (pattern.pattern, timeout, "\n".join(self.lines)))
                self._changed.wait(min(left, 0.5))

    def _alive_reader(self):
        return not self.proc.stdout.closed and self.proc.poll() is None

    def worker_pids(self):
        """The node's worker processes (its children)."""
        pids = []
        for task in os.listdir("/proc/%d/task" % self.proc.pid):
            with open("/proc/%d/task/%s/children" % (self.proc.pid, task)) as f:
                pids += [int(p) for p in f.read().split()]
        return pids

    def kill(self, sig=signal.SIGKILL):
        os.kill(self.proc.pid, sig)

    def stop(self, timeout=30):
        """SIGTERM and wait; SIGKILL the group if it does not stop."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._reader.join(10)
        if not self._reader.is_alive():
            self.proc.stdout.close()
        return self.proc.returncode


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purpose
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    return True


def wait_until(predicate, timeout, message):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


class RedisServer:
    """A real redis-server (Debian package; test.sh installs it) on a free loopback port, without
    persistence; stopped by stop(). Fails, never skips, when it cannot start."""

    def __init__(self):
        import shutil
        import socket
        program = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(program):
            raise AssertionError("redis-server is not installed (Debian: apt-get install redis-server)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen([program, "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise AssertionError("redis-server did not start on port %d" % self.port)
            time.sleep(0.05)
        self.address = "redis://127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
