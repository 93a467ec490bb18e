namespace CsFutures.Interop.Runtime;

/// <summary>
/// Where to find CPython and how to start it in this process (bound from configuration by
/// <c>AddPythonRuntime</c>, section <c>"Python"</c> by convention). Every automatic source of
/// <see cref="PythonLocator"/> can be switched off; an explicit <see cref="LibraryPath"/> or
/// <see cref="Home"/> is used alone (no fallback to other places).
/// </summary>
public sealed class PythonRuntimeOptions
{
    /// <summary>The shared library to load, e.g. <c>/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0</c>
    /// (what pythonnet calls <c>Runtime.PythonDLL</c>). Wins over everything else.</summary>
    public string? LibraryPath { get; set; }

    /// <summary>An installation prefix (Python's <c>sys.base_prefix</c>, e.g.
    /// <c>~/.pyenv/versions/3.12.1</c>) or a virtual environment: libpython is searched in its
    /// <c>lib</c> folder (for a virtual environment, in the home named by its <c>pyvenv.cfg</c>).</summary>
    public string? Home { get; set; }

    /// <summary>Consult <c>PYTHONNET_PYDLL</c> (pythonnet's variable) and <c>VIRTUAL_ENV</c> (an
    /// activated virtual environment). Default true.</summary>
    public bool UseEnvironmentVariables { get; set; } = true;

    /// <summary>The interpreter asked for its libpython through <c>sysconfig</c> (run as a
    /// subprocess), looked up on <c>PATH</c> unless it is a path; <c>null</c> or empty skips this
    /// source. Default <c>python3</c>.</summary>
    public string? PythonExecutable { get; set; } = "python3";

    /// <summary>The folders searched last for <c>libpython3.X</c>; <c>null</c> means the usual ones
    /// (<c>/usr/lib</c>, <c>/usr/lib/&lt;arch&gt;-linux-gnu</c>, <c>/usr/local/lib</c>,
    /// <c>~/.pyenv/versions/*/lib</c>); an empty list skips this source.</summary>
    public IList<string>? SearchFolders { get; set; }

    /// <summary>Folders added to the front of Python's <c>sys.path</c> after start (where the
    /// application's <c>.py</c> modules live).</summary>
    public IList<string> ModulePaths { get; set; } = new List<string>();

    /// <summary>How long the <see cref="PythonExecutable"/> probe may take. Default 10 s.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Call pythonnet's <c>PythonEngine.Shutdown()</c> when the runtime is disposed (CPython's
    /// <c>Py_FinalizeEx</c>). Default true. False leaves it loaded (Python calls are refused after dispose).
    /// See <c>PythonRuntime.Dispose</c>.</summary>
    public bool FinalizeOnDispose { get; set; } = true;

}
