namespace CsFutures.Cluster.Chaos;

/// <summary>
/// Faults a node injects into its own Orleans calls, for the tests only: read from the environment
/// variable <see cref="Variable"/> (unset: none, and no filter is installed). Its value is a comma
/// separated list of <c>NAME=COUNT</c> or <c>NAME=COUNT@SKIP</c>, each fault applied to its first COUNT
/// matching calls (after the first SKIP of them, left as they are):
/// <list type="bullet">
/// <item><c>empty-listings</c>: a directory listing this node asked for, that named executors, answers
/// empty (the directory lost its entries); the node's first such listing is left as it is, so that the
/// node knows an executor when the gap begins.</item>
/// <item><c>delay-register</c>: an executor's <c>Register</c> reaching the directory on this node waits
/// <see cref="RegisterDelay"/> first.</item>
/// <item><c>drop-completed</c>: a batch of results this node sends is lost on its way (the call fails
/// as if its answer never came).</item>
/// <item><c>lose-taken</c>: tasks a <c>Take</c> gave this node are reported started and then never run
/// (the node holds them for the executor, but none of its workers is busy with them).</item>
/// <item><c>closed-take</c>: a <c>Take</c> answers null, so the node takes the executor for closed and
/// stops pulling from it for good (while the executor still queues work).</item>
/// </list>
/// Every hit is logged as <c>chaos: NAME hit K of COUNT</c>, so that a test sees that its fault happened.
/// </summary>
internal sealed class ChaosSettings
{
    /// <summary>The environment variable that enables the faults.</summary>
    internal const string Variable = "CS_FUTURES_CLUSTER_CHAOS";

    internal const string EmptyListings = "empty-listings";
    internal const string DelayRegister = "delay-register";
    internal const string DropCompleted = "drop-completed";
    internal const string LoseTaken = "lose-taken";
    internal const string ClosedTake = "closed-take";

    /// <summary>How long a delayed <c>Register</c> waits.</summary>
    internal static readonly TimeSpan RegisterDelay = TimeSpan.FromSeconds(10);

    private readonly Dictionary<string, (int Count, int Hits, int Skip)> _faults;
    private readonly Action<string> _log;

    private ChaosSettings(Dictionary<string, (int, int, int)> faults, Action<string> log)
    {
        _faults = faults;
        _log = log;
    }

    /// <summary>The faults named in the environment, or null when there are none.</summary>
    /// <exception cref="ArgumentException">An unknown fault or a bad count.</exception>
    internal static ChaosSettings? FromEnvironment(Action<string> log)
    {
        string? value = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        var faults = new Dictionary<string, (int, int, int)>();
        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var pair = part.Split('=', 2);
            var numbers = pair.Length == 2 ? pair[1].Split('@', 2) : [];
            int skip = 0;
            if (pair[0] is not (EmptyListings or DelayRegister or DropCompleted or LoseTaken or ClosedTake) || numbers.Length == 0
                || !int.TryParse(numbers[0], out int count) || count < 0
                || (numbers.Length == 2 && (!int.TryParse(numbers[1], out skip) || skip < 0)))
            {
                throw new ArgumentException($"{Variable}: expected {EmptyListings}|{DelayRegister}|{DropCompleted}|{LoseTaken}|{ClosedTake}=COUNT[@SKIP], got '{part}'");
            }
            faults[pair[0]] = (count, 0, skip);
        }
        return new ChaosSettings(faults, log);
    }

    /// <summary>Counts a hit of <paramref name="fault"/> and logs it; false once its count is used up.</summary>
    internal bool Hit(string fault)
    {
        int hit, count;
        lock (_faults)
        {
            if (!_faults.TryGetValue(fault, out var state) || state.Hits >= state.Count)
            {
                return false;
            }
            if (state.Skip > 0)
            {
                _faults[fault] = (state.Count, state.Hits, state.Skip - 1);
                return false;
            }
            _faults[fault] = (state.Count, state.Hits + 1, 0);
            (hit, count) = (state.Hits + 1, state.Count);
        }
        _log($"chaos: {fault} hit {hit} of {count}");
        return true;
    }
}
