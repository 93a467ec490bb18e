namespace CsFutures.Interop.Runtime;

/// <summary>A libpython found by <see cref="PythonLocator"/>.</summary>
/// <param name="LibraryPath">The shared library (pythonnet's <c>Runtime.PythonDLL</c>).</param>
/// <param name="Version">Its version, major and minor (Python's <c>sys.version_info[:2]</c>).</param>
/// <param name="Source">Which source found it (e.g. <c>python3 on PATH (/usr/bin/python3)</c>).</param>
/// <param name="VirtualEnvironment">The virtual environment whose <c>site-packages</c> to add, if the
/// location came from one.</param>
public sealed record PythonLocation(string LibraryPath, Version Version, string Source, string? VirtualEnvironment = null);
