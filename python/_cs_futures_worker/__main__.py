"""The worker process: ``python -m _cs_futures_worker``, or the bootstrap of ``worker_arguments()``.

It connects to the Unix socket named by ``CS_FUTURES_WORKER_SOCKET`` and serves the engine's frame
protocol until told to stop (see ``_worker``). With the argument ``cluster-node``, it also exits
when its cluster node is gone.
"""
import sys

from _cs_futures_worker import _worker


def main():
    """Serve tasks until told to stop; return the exit code."""
    return _worker.main()


if __name__ == "__main__":
    sys.exit(main())
