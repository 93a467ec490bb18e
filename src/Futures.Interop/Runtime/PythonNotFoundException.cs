namespace CsFutures.Interop.Runtime;

/// <summary>
/// No usable CPython (a shared libpython 3.11 to 3.13) was found: the message lists every place
/// tried, why each was rejected, and how to fix it. Python's nearest counterpart is the
/// <c>ImportError</c> that the <c>cs_futures</c> package raises when it cannot find .NET.
/// </summary>
public sealed class PythonNotFoundException : Exception
{
    /// <summary>How to point the locator at an interpreter.</summary>
    public const string Fix =
        "Install CPython 3.11-3.13 built with a shared libpython (pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared; "
        + "Debian: apt-get install libpython3.11), then either put its python3 on PATH, activate a virtual "
        + "environment (VIRTUAL_ENV), set PYTHONNET_PYDLL to the libpython file, or set PythonRuntimeOptions."
        + "LibraryPath / Home (configuration keys Python:LibraryPath, Python:Home).";

    internal PythonNotFoundException(IReadOnlyList<string> tried)
        : base(BuildMessage(tried))
    {
        Tried = tried;
    }

    /// <summary>Each place looked at, with the reason it was not used.</summary>
    public IReadOnlyList<string> Tried { get; }

    private static string BuildMessage(IReadOnlyList<string> tried) =>
        "No usable CPython 3.11-3.13 shared library was found. Tried:"
        + string.Concat(tried.Select(t => Environment.NewLine + "  - " + t))
        + Environment.NewLine + "To fix: " + Fix;
}
