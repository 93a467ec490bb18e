#!/usr/bin/env python3
"""A worker for the ProcessPoolExecutor and cluster tests: the WorkerProtocol with a tiny command language.

The worker connects to the Unix socket named by CS_FUTURES_WORKER_SOCKET and speaks frames of a
13-byte header (uint32 LE body length, one byte kind, int64 LE id) followed by the body.

Init payload: ``fail`` -> InitFailed "initializer failed" and exit(1); anything else is remembered.

Task bodies (UTF-8):
  echo:<text>    Ok <text>
  pid            Ok <this process's id>
  sleep:<secs>   sleeps, then Ok "slept"
  work:<secs>    sleeps, then Ok <this process's id>   (cluster tests: where did a task run)
  fail:<text>    Error <text>
  exit:<code>    os._exit(code), no reply
  crash          killed by SIGSEGV, no reply
  init?          Ok <the init payload received>
  env:<NAME>     Ok <os.environ[NAME]>, Error "missing" if unset

A TracedTask frame (kind 4: uint16 LE length, the traceparent, then the task body) is answered
with OkTimed / ErrorTimed (14 / 15: two int64 LE, start and end in ns since the epoch, then the
reply). Its times are fixed, so that tests can check that the pool's span takes them:
FIXED_START_NS and FIXED_START_NS + 1.5 s. One more command, for traced tasks only:
  traceparent?   Ok <the traceparent received>

Stop, or the end of the stream, exits with 0. Standard library only.
"""

import os
import signal
import socket
import struct
import sys
import time

HEADER = struct.Struct("<IBq")

INIT, TASK, STOP, TRACED_TASK = 1, 2, 3, 4
READY, INIT_FAILED, OK, ERROR, OK_TIMED, ERROR_TIMED = 10, 11, 12, 13, 14, 15
FIXED_START_NS = 1_700_000_000_000_000_000
FIXED_RUN_NS = 1_500_000_000


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
        if kind == TRACED_TASK:
            (length,) = struct.unpack_from("<H", body)
            traceparent, text = body[2:2 + length], body[2 + length:].decode("utf-8")
            if text == "traceparent?":
                reply_kind, reply = OK, traceparent
            else:
                reply_kind, reply = run_task(text, init_payload)
            times = struct.pack("<qq", FIXED_START_NS, FIXED_START_NS + FIXED_RUN_NS)
            send_frame(sock, OK_TIMED if reply_kind == OK else ERROR_TIMED, ident, times + reply)
            continue
        if kind != TASK:
            sys.stderr.write("echo_worker: unexpected frame kind %d\n" % kind)
            return 2
        reply_kind, reply = run_task(body.decode("utf-8"), init_payload)
        send_frame(sock, reply_kind, ident, reply)


if __name__ == "__main__":
    sys.exit(main())
