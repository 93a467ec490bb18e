using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace CsFutures.Interop.Runtime;

/// <summary>
/// Finds the CPython shared library to host, in this order: an explicit library path or home in the
/// options (used alone); <c>PYTHONNET_PYDLL</c>; the active virtual environment (<c>VIRTUAL_ENV</c>,
/// through the <c>home</c> of its <c>pyvenv.cfg</c>); <c>python3</c> on <c>PATH</c>, asked for
/// <c>sysconfig.get_config_var('LIBDIR')</c> and <c>'LDLIBRARY'</c>; the usual install folders.
/// Only CPython 3.11 to 3.15 (pythonnet 3.2.1's range; 3.11 to 3.13 are tested here) with a shared
/// libpython is accepted; free-threaded builds (<c>libpython3.13t</c>) are refused.
/// </summary>
public static partial class PythonLocator
{
    /// <summary>The oldest minor version of Python 3 accepted.</summary>
    public const int MinMinor = 11;

    /// <summary>The newest minor version of Python 3 accepted: pythonnet 3.2.1 embeds up to 3.15.
    /// The hosting suite runs on a 3.14 libpython (tests/sid/run.sh); a hosted 3.15 is accepted but not
    /// tested (docs/versions.md).</summary>
    public const int MaxMinor = 15;

    /// <summary>Finds libpython as configured by <paramref name="options"/>.</summary>
    /// <exception cref="PythonNotFoundException">Nothing usable was found; the message lists every
    /// place tried and how to fix it.</exception>
    public static PythonLocation Locate(PythonRuntimeOptions? options = null) =>
        Locate(options ?? new PythonRuntimeOptions(), Environment.GetEnvironmentVariable);

    internal static PythonLocation Locate(PythonRuntimeOptions options, Func<string, string?> env)
    {
        var tried = new List<string>();
        if (!string.IsNullOrEmpty(options.LibraryPath))
        {
            return FromLibraryFile(options.LibraryPath, "PythonRuntimeOptions.LibraryPath", tried)
                ?? throw new PythonNotFoundException(tried);
        }
        if (!string.IsNullOrEmpty(options.Home))
        {
            return FromHome(options.Home, "PythonRuntimeOptions.Home", tried)
                ?? throw new PythonNotFoundException(tried);
        }
        if (options.UseEnvironmentVariables)
        {
            string? pydll = env("PYTHONNET_PYDLL");
            if (string.IsNullOrEmpty(pydll))
            {
                tried.Add("PYTHONNET_PYDLL: not set");
            }
            else if (FromLibraryFile(pydll, "PYTHONNET_PYDLL", tried) is { } fromVar)
            {
                return fromVar;
            }
            string? venv = env("VIRTUAL_ENV");
            if (string.IsNullOrEmpty(venv))
            {
                tried.Add("VIRTUAL_ENV: not set");
            }
            else if (FromHome(venv, "VIRTUAL_ENV", tried) is { } fromVenv)
            {
                return fromVenv;
            }
        }
        else
        {
            tried.Add("PYTHONNET_PYDLL, VIRTUAL_ENV: skipped (UseEnvironmentVariables is false)");
        }
        if (string.IsNullOrEmpty(options.PythonExecutable))
        {
            tried.Add("python3 on PATH: skipped (PythonExecutable is empty)");
        }
        else if (FromExecutable(options.PythonExecutable, options.ProbeTimeout, env, tried) is { } fromExe)
        {
            return fromExe;
        }
        foreach (string folder in options.SearchFolders ?? UsualFolders(env))
        {
            if (FromFolder(folder, $"folder {folder}", tried) is { } fromFolder)
            {
                return fromFolder;
            }
        }
        if (options.SearchFolders is { Count: 0 })
        {
            tried.Add("usual folders: skipped (SearchFolders is empty)");
        }
        throw new PythonNotFoundException(tried);
    }

    /// <summary>The folders searched last when <see cref="PythonRuntimeOptions.SearchFolders"/> is null.</summary>
    public static IReadOnlyList<string> UsualFolders() => UsualFolders(Environment.GetEnvironmentVariable);

    /// <summary>Debian's multiarch folder name under <c>lib</c> (<c>x86_64-linux-gnu</c>).</summary>
    private static string MultiarchTriplet =>
        (RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "aarch64" : "x86_64") + "-linux-gnu";

    private static List<string> UsualFolders(Func<string, string?> env)
    {
        var folders = new List<string>();
        folders.AddRange(new[] { $"/usr/lib/{MultiarchTriplet}", "/usr/lib", "/usr/local/lib", "/usr/lib64", "/opt/homebrew/lib" });
        string? pyenvRoot = env("PYENV_ROOT");
        if (string.IsNullOrEmpty(pyenvRoot))
        {
            string home = env("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            pyenvRoot = string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".pyenv");
        }
        if (pyenvRoot is not null && Directory.Exists(Path.Combine(pyenvRoot, "versions")))
        {
            // Newest accepted version first.
            folders.AddRange(Directory.GetDirectories(Path.Combine(pyenvRoot, "versions"))
                .OrderByDescending(d => ParseVersion(Path.GetFileName(d)) ?? new Version(0, 0))
                .Select(d => Path.Combine(d, "lib")));
        }
        return folders;
    }

    private static PythonLocation? FromLibraryFile(string path, string source, List<string> tried)
    {
        if (!File.Exists(path))
        {
            tried.Add($"{source}: {path} does not exist");
            return null;
        }
        if (path.EndsWith(".a", StringComparison.Ordinal))
        {
            tried.Add($"{source}: {path} is a static library (a static-only build cannot be hosted)");
            return null;
        }
        Version? version = VersionOfLibrary(Path.GetFileName(path));
        if (version is null)
        {
            tried.Add($"{source}: {path} is not named like a CPython library (libpython3.X)");
            return null;
        }
        if (IsFreeThreadedLibrary(Path.GetFileName(path)))
        {
            tried.Add($"{source}: {path} is a free-threaded build of Python {version}, not supported yet (use the default build)");
            return null;
        }
        if (!Accepted(version))
        {
            tried.Add($"{source}: {path} is Python {version}, outside 3.{MinMinor}-3.{MaxMinor}");
            return null;
        }
        return new PythonLocation(Path.GetFullPath(path), version, source);
    }

    /// <summary>A prefix (its <c>lib</c> folder) or a virtual environment (its <c>pyvenv.cfg</c> home).</summary>
    private static PythonLocation? FromHome(string home, string source, List<string> tried)
    {
        if (!Directory.Exists(home))
        {
            tried.Add($"{source}: folder {home} does not exist");
            return null;
        }
        string cfg = Path.Combine(home, "pyvenv.cfg");
        if (File.Exists(cfg))
        {
            var settings = File.ReadLines(cfg)
                .Select(l => l.Split('=', 2))
                .Where(kv => kv.Length == 2)
                .GroupBy(kv => kv[0].Trim())
                .ToDictionary(g => g.Key, g => g.First()[1].Trim());
            string? baseBin = settings.GetValueOrDefault("home");
            // The environment's own version (venv writes it), so that a folder holding several
            // (Debian's /usr/lib/x86_64-linux-gnu: libpython3.14 and 3.15) gives the one it was made with.
            Version? made = Version.TryParse(settings.GetValueOrDefault("version") ?? settings.GetValueOrDefault("version_info"), out var v)
                ? new Version(v.Major, v.Minor) : null;
            if (baseBin is null)
            {
                tried.Add($"{source}: {cfg} has no 'home' line");
                return null;
            }
            string prefix = Path.GetDirectoryName(baseBin.TrimEnd('/')) ?? baseBin;
            // <prefix>/lib (a source build, pyenv), then Debian's multiarch folder (home = /usr/bin:
            // libpython3.X.so.1.0 is in /usr/lib/x86_64-linux-gnu).
            string venvSource = $"{source} ({cfg} home {baseBin})";
            var found = FromFolder(Path.Combine(prefix, "lib"), venvSource, tried, made)
                ?? FromFolder(Path.Combine(prefix, "lib", MultiarchTriplet), venvSource, tried, made);
            return found is null ? null : found with { VirtualEnvironment = Path.GetFullPath(home) };
        }
        return FromFolder(Path.Combine(home, "lib"), $"{source} ({home})", tried);
    }

    /// <summary>The newest accepted shared libpython in <paramref name="folder"/>, or the one of
    /// version <paramref name="only"/> when given.</summary>
    private static PythonLocation? FromFolder(string folder, string source, List<string> tried, Version? only = null)
    {
        if (!Directory.Exists(folder))
        {
            tried.Add($"{source}: {folder} does not exist");
            return null;
        }
        var candidates = Directory.EnumerateFiles(folder, "*python3*")
            .Select(f => (Path: f, Version: VersionOfLibrary(Path.GetFileName(f))))
            .Where(c => c.Version is not null)
            .ToList();
        var shared = candidates
            .Where(c => !c.Path.EndsWith(".a", StringComparison.Ordinal) && Accepted(c.Version!)
                && !IsFreeThreadedLibrary(Path.GetFileName(c.Path)) && (only is null || c.Version == only))
            .OrderByDescending(c => c.Version)
            .ThenBy(c => c.Path.Length) // libpython3.12.so before libpython3.12.so.1.0
            .FirstOrDefault();
        if (shared.Path is not null)
        {
            return new PythonLocation(shared.Path, shared.Version!, source);
        }
        tried.Add(candidates.Count == 0
            ? $"{source}: no libpython3.X in {folder}"
            : $"{source}: only {string.Join(", ", candidates.Select(c => Path.GetFileName(c.Path)))} in {folder} "
              + (only is null ? $"(static, free-threaded, or outside 3.{MinMinor}-3.{MaxMinor})" : $"(none a shared {only} library)"));
        return null;
    }

    private static PythonLocation? FromExecutable(string exe, TimeSpan timeout, Func<string, string?> env, List<string> tried)
    {
        string? path = exe.Contains(Path.DirectorySeparatorChar) ? exe : FindOnPath(exe, env);
        string source = exe.Contains(Path.DirectorySeparatorChar) ? exe : $"{exe} on PATH";
        if (path is null || !File.Exists(path))
        {
            tried.Add($"{source}: not found");
            return null;
        }
        const string Probe =
            "import sys, sysconfig; v = sysconfig.get_config_var; "
            + "print(v('LIBDIR') or ''); print(v('LDLIBRARY') or ''); print(v('Py_ENABLE_SHARED') or 0); "
            + "print('%d.%d' % sys.version_info[:2]); print(sys.prefix); print(sys.base_prefix)";
        string[] lines;
        try
        {
            var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(Probe);
            using var process = Process.Start(psi)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                tried.Add($"{source} ({path}): did not answer within {timeout.TotalSeconds:0.#} s");
                return null;
            }
            if (process.ExitCode != 0)
            {
                tried.Add($"{source} ({path}): exited with {process.ExitCode}: {stderr.Result.Trim()}");
                return null;
            }
            lines = stdout.Result.Split('\n', StringSplitOptions.TrimEntries);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            tried.Add($"{source} ({path}): could not run: {ex.Message}");
            return null;
        }
        if (lines.Length < 6)
        {
            tried.Add($"{source} ({path}): unexpected answer from sysconfig");
            return null;
        }
        string libdir = lines[0], ldlibrary = lines[1], version = lines[3], prefix = lines[4], basePrefix = lines[5];
        string label = $"{source} ({path}, Python {version})";
        if (lines[2] != "1" || ldlibrary.EndsWith(".a", StringComparison.Ordinal))
        {
            tried.Add($"{label}: a static-only build (Py_ENABLE_SHARED={lines[2]}, LDLIBRARY={ldlibrary}) cannot be hosted");
            return null;
        }
        var found = FromLibraryFile(Path.Combine(libdir, ldlibrary), label, tried);
        return found is null || prefix == basePrefix ? found : found with { VirtualEnvironment = prefix };
    }

    private static string? FindOnPath(string name, Func<string, string?> env) =>
        (env("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static bool Accepted(Version v) => v.Major == 3 && v.Minor >= MinMinor && v.Minor <= MaxMinor;

    /// <summary>3.X from <c>libpython3.X.so[.1.0]</c>, <c>libpython3.X.dylib</c>, <c>libpython3.X.a</c>,
    /// <c>python3X.dll</c> (and their free-threaded <c>3.Xt</c> forms); null for anything else
    /// (<c>libpython3.so</c>, the stable-ABI stub, included).</summary>
    internal static Version? VersionOfLibrary(string fileName)
    {
        var m = LibraryName().Match(fileName);
        return m.Success ? new Version(3, int.Parse(m.Groups["minor"].Value, System.Globalization.CultureInfo.InvariantCulture)) : null;
    }

    /// <summary>True for a free-threaded build's library (<c>libpython3.13t.so</c>, <c>python313t.dll</c>):
    /// built with <c>Py_GIL_DISABLED</c>, another object layout, which the bridge does not support yet.</summary>
    internal static bool IsFreeThreadedLibrary(string fileName)
    {
        var m = LibraryName().Match(fileName);
        return m.Success && m.Groups["abi"].Value.Contains('t', StringComparison.Ordinal);
    }

    private static Version? ParseVersion(string text) => Version.TryParse(text, out var v) ? v : null;

    [GeneratedRegex(@"^(?:libpython3\.(?<minor>\d+)(?<abi>[dmut]*)\.(?:so(?:\.[\d.]+)?|dylib|a)|python3(?<minor>\d+)(?<abi>t?)(?:_d)?\.dll)$")]
    private static partial Regex LibraryName();
}
