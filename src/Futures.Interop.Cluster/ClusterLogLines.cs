using System.Collections.Concurrent;
using CsFutures.Cluster;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Cluster;

/// <summary>
/// The log lines of a Python <c>ClusterExecutor</c>'s .NET executor (<see cref="ClusterExecutorOptions.Log"/>),
/// kept until the package drains them (<c>cluster_logs</c>) and hands them to Python's <c>logging</c>
/// (the logger <c>cs_futures.cluster</c>).
/// </summary>
/// <remarks>The executor logs from its own threads, which hold no GIL: <see cref="Add"/> only queues
/// (never calls Python, never throws), and Python asks for the lines from a thread of its own, through an
/// entry point called with the GIL held. So no .NET thread ever waits for the GIL on the executor's behalf,
/// and no Python code runs (a handler that blocks or raises) where it could stall the executor. Bounded:
/// past <see cref="Capacity"/> lines not yet drained, the oldest go and are counted, and the next drain
/// says how many.</remarks>
internal sealed unsafe class ClusterLogLines
{
    /// <summary>Python's <c>logging.INFO</c>, <c>WARNING</c> and <c>ERROR</c>.</summary>
    internal const int Info = 20, Warning = 30, Error = 40;

    /// <summary>The most lines kept before the oldest are dropped.</summary>
    internal const int Capacity = 1000;

    private readonly ConcurrentQueue<(int Level, string Line)> _lines = new();
    private long _dropped;

    /// <summary>Queues one of the executor's lines with its level (<see cref="LevelOf"/>); never throws.</summary>
    internal void Add(string line)
    {
        _lines.Enqueue((LevelOf(line), line));
        while (_lines.Count > Capacity && _lines.TryDequeue(out _))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>The level of one of the executor's lines: <see cref="Error"/> when its watchdog gave up (its
    /// futures fail), <see cref="Warning"/> for a node lost and the watchdog's other actions (registering
    /// the executor again, taking tasks back), <see cref="Info"/> otherwise.</summary>
    internal static int LevelOf(string line) =>
        line.Contains("the watchdog gave up", StringComparison.Ordinal) ? Error
        : line.Contains("watchdog", StringComparison.Ordinal) || line.Contains(" lost: ", StringComparison.Ordinal) ? Warning
        : Info;

    /// <summary>Takes every line queued now, oldest first; a line saying how many were dropped comes first
    /// when some were.</summary>
    internal List<(int Level, string Line)> Drain()
    {
        var taken = new List<(int, string)>();
        long dropped = Interlocked.Exchange(ref _dropped, 0);
        if (dropped > 0)
        {
            taken.Add((Warning, $"{dropped} log line(s) of the cluster executor were dropped: more than {Capacity} waited to be logged"));
        }
        while (_lines.TryDequeue(out var line))
        {
            taken.Add(line);
        }
        return taken;
    }

    /// <summary>Drains the lines into a new Python list of <c>(level, line)</c> tuples (a new reference);
    /// the GIL must be held. Throws, with a Python error set, when an object cannot be made.</summary>
    internal IntPtr DrainToPython()
    {
        var lines = Drain();
        IntPtr list = PyApi.PyList_New(lines.Count);
        if (list == IntPtr.Zero)
        {
            throw new InvalidOperationException("cannot make the list of log lines");
        }
        try
        {
            for (int i = 0; i < lines.Count; i++)
            {
                IntPtr tuple = PyApi.PyTuple_New(2);
                if (tuple == IntPtr.Zero)
                {
                    throw new InvalidOperationException("cannot make a log line's tuple");
                }
                PyApi.PyList_SetItem(list, i, tuple); // steals: the list owns it now
                IntPtr level = PyApi.PyLong_FromLongLong(lines[i].Level);
                if (level == IntPtr.Zero || PyApi.PyTuple_SetItem(tuple, 0, level) != 0)
                {
                    throw new InvalidOperationException("cannot make a log line's level");
                }
                IntPtr text = PyApi.NewString(lines[i].Line);
                if (text == IntPtr.Zero || PyApi.PyTuple_SetItem(tuple, 1, text) != 0)
                {
                    throw new InvalidOperationException("cannot make a log line's text");
                }
            }
        }
        catch
        {
            PyApi.Py_DecRef(list);
            throw;
        }
        return list;
    }
}
