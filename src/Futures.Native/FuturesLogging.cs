using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CsFutures;

/// <summary>
/// Where the engine logs what CPython writes to its <c>concurrent.futures</c> logger
/// (<c>concurrent.futures._base.LOGGER</c>): exceptions raised by done-callbacks, failing initializers.
/// </summary>
public static class FuturesLogging
{
    /// <summary>The logger category, the name of CPython's logger.</summary>
    public const string Category = "concurrent.futures";

    private static ILogger s_logger = NullLogger.Instance;

    /// <summary>
    /// The logger used by futures and by executors created without one of their own.
    /// Defaults to a logger that discards everything; set it, or call <see cref="UseLoggerFactory"/>.
    /// </summary>
    public static ILogger Logger
    {
        get => Volatile.Read(ref s_logger);
        set => Volatile.Write(ref s_logger, value ?? NullLogger.Instance);
    }

    /// <summary>Uses a logger of category <see cref="Category"/> from <paramref name="factory"/>.</summary>
    public static void UseLoggerFactory(ILoggerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Logger = factory.CreateLogger(Category);
    }
}
