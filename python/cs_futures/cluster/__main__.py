"""Run a cluster node: ``python -m cs_futures.cluster worker [options]`` (Dask: ``dask worker``).

    --cluster redis://[[USER]:PASSWORD@]HOST:PORT   membership kept in Redis: any node may die; or
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
    --dashboard PORT               the cluster's dashboard on http://127.0.0.1:PORT/ (and Orleans'
                                   own at /orleans/); no authentication
    --dashboard-listen ADDR        the dashboard's address (default 127.0.0.1)

The node is the .NET node program (``Futures.Cluster.Node``, shipped in the package), run by the
.NET runtime that cs_futures uses, in place of this process. It prints ``node started: ADDRESS silo
HOST:PORT gateway HOST:PORT``, logs joins and deaths, and stops (its worker processes too) on SIGINT
or SIGTERM. Worker processes run this interpreter with this environment: tasks may use the modules
installed here.
"""
import os
import sys

USAGE = __doc__

NODE = "Futures.Cluster.Node"


def node_program():
    """The path of the node program's assembly in the package (or CS_FUTURES_DOTNET_DIR)."""
    from .. import _loader
    path = os.path.join(_loader.assemblies_dir(), "node", NODE + ".dll")
    if not os.path.isfile(path):
        raise SystemExit("python -m cs_futures.cluster: the node program is missing (%s); rebuild the "
                         "package (./run.sh or pip install .), which publishes it" % path)
    return path


def node_command(argv):
    """The command line of a node serving with this interpreter's workers."""
    from .. import _loader
    from .. import process as _process
    root, _ = _loader.find_runtime()
    dotnet = os.path.join(root, "dotnet.exe" if sys.platform == "win32" else "dotnet")
    return [dotnet, node_program(), *argv, "--trace-workers", "--worker-command", sys.executable,
            *_process._worker_arguments(), "cluster-node"]


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE.strip())
        return 0 if argv else 2
    if argv[0] != "worker":
        print("python -m cs_futures.cluster: unknown command %r (expected: worker)" % argv[0], file=sys.stderr)
        return 2
    if "--worker-command" in argv:
        print("error: --worker-command is set by python -m cs_futures.cluster", file=sys.stderr)
        return 2
    command = node_command(argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(command[0], command)  # the node program replaces this process: signals go to it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
