using System.Reflection;

namespace CsFutures.Interop.Processes;

/// <summary>
/// A private copy of the Python worker package (<c>_cs_futures_worker</c>: the package's
/// <c>_worker.py</c>, <c>_serialize.py</c>, <c>_interpreter_calls.py</c> and <c>_host.py</c>, embedded in
/// this assembly), written to a new directory only this user can open, so that a .NET host needs no
/// installed cs_futures.
/// </summary>
internal sealed class WorkerPackage : IDisposable
{
    public const string Name = "_cs_futures_worker";
    private static readonly string[] s_files = ["_worker.py", "_serialize.py", "_interpreter_calls.py", "_host.py"];

    private WorkerPackage(DirectoryInfo root) => Root = root;

    /// <summary>The directory that contains the package (what goes on <c>sys.path</c>).</summary>
    public DirectoryInfo Root { get; }

    /// <summary>The package's own directory.</summary>
    public string PackageDirectory => Path.Combine(Root.FullName, Name);

    public static WorkerPackage Extract()
    {
        var root = Directory.CreateTempSubdirectory("csf-py-"); // mode 0700 on Unix
        string package = Directory.CreateDirectory(Path.Combine(root.FullName, Name)).FullName;
        File.WriteAllText(Path.Combine(package, "__init__.py"), "");
        var assembly = typeof(WorkerPackage).Assembly;
        foreach (string file in s_files)
        {
            using Stream source = assembly.GetManifestResourceStream("cs_futures/" + file)
                ?? throw new InvalidOperationException($"the embedded worker file {file} is missing from {assembly.GetName().Name}");
            using var target = File.Create(Path.Combine(package, file));
            source.CopyTo(target);
        }
        return new WorkerPackage(root);
    }

    public void Dispose()
    {
        try
        {
            Root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS's temp cleanup.
        }
    }
}
