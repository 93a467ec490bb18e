"""Run a cluster node: ``python -m cs_futures.cluster worker [options]`` (Dask: ``dask worker``).

    --cluster redis://[:PASSWORD@]HOST:PORT   membership kept in Redis: any node may die; or
    --primary                      this node holds the membership (Orleans development clustering:
                                   when it dies, the cluster is gone); or
    --seed HOST:PORT               join the primary's silo port
    --workers N                    worker processes (default: the number of processors)
    --listen ADDR                  address to listen on and advertise (default 127.0.0.1: whoever
                                   reaches the ports can run code on this machine)
    --port P --gateway-port G      silo and gateway ports (default: free ones)
    --response-timeout SECONDS     Orleans' response timeout (default 30)
    --max-result BYTES             the largest result sent back (default 64 MiB)
    --tls-cert PATH --tls-ca PATH  mutual TLS: this node's certificate and key (PEM or PFX), and the
                                   authority (PEM) whose certificates nodes and executors must have

Prints ``node started: ADDRESS silo HOST:PORT gateway HOST:PORT``, logs joins and deaths, and stops
(its worker processes too) on SIGINT or SIGTERM. Worker processes run this interpreter, with this
process's environment and ``sys.path``: tasks may use the modules installed here.
"""
import os
import signal
import subprocess
import sys

USAGE = __doc__


class _Stop(Exception):
    pass


def _on_signal(signum, frame):
    raise _Stop(signum)


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE.strip())
        return 0 if argv else 2
    if argv[0] != "worker":
        print("python -m cs_futures.cluster: unknown command %r (expected: worker)" % argv[0], file=sys.stderr)
        return 2
    from .. import _bridge
    from .. import process as _process
    if "--worker-command" in argv:
        print("error: --worker-command is set by python -m cs_futures.cluster", file=sys.stderr)
        return 2
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bootstrap = _process._BOOTSTRAP.format(init=os.path.join(package, "__init__.py"), package=package)
    command = ["--worker-command", sys.executable, *subprocess._args_from_interpreter_flags(),
               "-c", bootstrap, "cluster-node"]
    try:
        node = _bridge.cluster_node_new(list(argv[1:]) + command)
    except (ValueError, TypeError) as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        _bridge.wait(_bridge.cluster_node_wait, None, node, 0)
        sys.stdout.flush()
        _bridge.wait(_bridge.cluster_node_wait, None, node, 1)  # until a signal (or the node ends)
        return 0
    except (KeyboardInterrupt, _Stop):
        print("node stopping", flush=True)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _bridge.cluster_node_stop(node)
        if not _bridge.wait(_bridge.cluster_node_wait, 30, node, 1):
            print("the node did not stop within 30 s", file=sys.stderr)
            return 1
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
