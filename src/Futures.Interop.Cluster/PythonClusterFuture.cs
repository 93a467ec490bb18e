using CsFutures.Cluster;
using CsFutures.Interop.Bridge;
using CsFutures.Interop.CPython;
using CsFutures.Interop.Processes;

namespace CsFutures.Interop.Cluster;

/// <summary>
/// The future of a Python task on a cluster: a process-pool future (the reply stays bytes until Python
/// asks for it) whose cluster failures the package's decoder turns into their Python exceptions
/// (<c>cs_futures.cluster.KilledWorker</c>...): kind 3, data <c>(name, message, details)</c>.
/// </summary>
internal sealed unsafe class PythonClusterFuture(PyRef decoder) : PythonProcessFuture(decoder)
{
    protected override (int Kind, IntPtr Data)? EncodeFailure(Exception exception) => exception switch
    {
        KilledWorkerException k => (3, Describe("KilledWorker", k.Message, k.TaskId, PyApi.NewString(k.LastNode), k.Attempts, k.LostBeforeStart)),
        PayloadTooLargeException p => (3, Describe("PayloadTooLarge", p.Message, p.Size, p.Limit)),
        ClusterUnavailableException c => (3, Describe("ClusterUnavailable", c.Message)),
        FuturesException f when f.GetType() == typeof(FuturesException) => (3, Describe("NodeFailed", f.Message)),
        _ => null,
    };

    // (name, message, (details...)): longs, or new references to Python objects.
    private static IntPtr Describe(string name, string message, params object[] details)
    {
        IntPtr detail = PyApi.PyTuple_New(details.Length);
        for (int i = 0; i < details.Length; i++)
        {
            PyApi.PyTuple_SetItem(detail, i, details[i] is IntPtr p ? p : PyApi.PyLong_FromLongLong(Convert.ToInt64(details[i], System.Globalization.CultureInfo.InvariantCulture)));
        }
        IntPtr tuple = PyApi.PyTuple_New(3);
        PyApi.PyTuple_SetItem(tuple, 0, PyApi.NewString(name));
        PyApi.PyTuple_SetItem(tuple, 1, PyApi.NewString(message));
        PyApi.PyTuple_SetItem(tuple, 2, detail);
        return tuple;
    }
}
