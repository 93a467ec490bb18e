#!/usr/bin/env python3
"""A worker for the ProcessPoolExecutor and cluster tests (a copy of tests/Futures.Native.Tests/workers/echo_worker.py plus work:): the WorkerProtocol with a tiny command language.

The worker connects to the Unix socket named by CS_FUTURES_WORKER_SOCKET and speaks frames of a
13-byte header (uint32 LE body length, one byte kind, int64 LE id) followed by the body.

Init payload: ``fail`` -> InitFailed "initializer failed" and exit(1); anything else is remembered.

Task bodies (UTF-8):
  echo:<text>    Ok <text>
  pid            Ok <this process's id>
  work:<secs>    sleeps, then Ok <this process's id>   (cluster tests: where did a task run)
  sleep:<secs>   sleeps, then Ok "slept"
  fail:<text>    Error <text>
  exit:<code>    os._exit(code), no reply
  crash          killed by SIGSEGV, no reply
  init?          Ok <the init payload received>
  env:<NAME>     Ok <os.environ[NAME]>, Error "missing" if unset

Stop, or the end of the stream, exits with 0. Standard library only.
"""

import os
import signal
import socket
import struct
import sys
import time

HEADER = struct.Struct("<IBq")

INIT, TASK, STOP = 1, 2, 3
READY, INIT_FAILED, OK, ERROR = 10, 11, 12, 13


def recv_exact(sock, size):
    """Reads exactly ``size`` bytes, or returns None at the end of the stream."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if n == 0:
            return None
        got += n
    return bytes(buffer)


def read_frame(sock):
    header = recv_exact(sock, HEADER.size)
    if header is None:
        return None
    length, kind, ident = HEADER.unpack(header)
    body = recv_exact(sock, length) if length else b""
    if body is None:
        return None
    return kind, ident, body


def send_frame(sock, kind, ident, body=b""):
    sock.sendall(HEADER.pack(len(body), kind, ident) + body)


def crash():
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
    except (ImportError, ValueError, OSError):
        pass
    signal.signal(signal.SIGSEGV, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGSEGV)
    time.sleep(60)  # the signal is delivered before this returns
    os._exit(99)


def run_task(text, init_payload):
    """Returns (kind, reply bytes); may not return at all (exit, crash)."""
    if text.startswith("echo:"):
        return OK, text[len("echo:"):].encode("utf-8")
    if text == "pid":
        return OK, str(os.getpid()).encode("ascii")
    if text.startswith("work:"):
        time.sleep(float(text[len("work:"):]))
        return OK, str(os.getpid()).encode("ascii")
    if text.startswith("sleep:"):
        time.sleep(float(text[len("sleep:"):]))
        return OK, b"slept"
    if text.startswith("fail:"):
        return ERROR, text[len("fail:"):].encode("utf-8")
    if text.startswith("exit:"):
        sys.stdout.flush()
        os._exit(int(text[len("exit:"):]))
    if text == "crash":
        crash()
    if text == "init?":
        return OK, init_payload
    if text.startswith("env:"):
        value = os.environ.get(text[len("env:"):])
        if value is None:
            return ERROR, b"missing"
        return OK, value.encode("utf-8")
    return ERROR, ("unknown command: " + text).encode("utf-8")


def main():
    path = os.environ["CS_FUTURES_WORKER_SOCKET"]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)

    frame = read_frame(sock)
    if frame is None or frame[0] == STOP:
        return 0
    kind, _, init_payload = frame
    if kind != INIT:
        sys.stderr.write("echo_worker: expected Init, got kind %d\n" % kind)
        return 2
    if init_payload == b"fail":
        send_frame(sock, INIT_FAILED, 0, b"initializer failed")
        sock.close()
        return 1
    send_frame(sock, READY, 0)

    while True:
        frame = read_frame(sock)
        if frame is None:
            return 0
        kind, ident, body = frame
        if kind == STOP:
            return 0
        if kind != TASK:
            sys.stderr.write("echo_worker: unexpected frame kind %d\n" % kind)
            return 2
        reply_kind, reply = run_task(body.decode("utf-8"), init_payload)
        send_frame(sock, reply_kind, ident, reply)


if __name__ == "__main__":
    sys.exit(main())
