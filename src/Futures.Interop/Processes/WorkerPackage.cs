using System.Reflection;

namespace CsFutures.Interop.Processes;

/// <summary>
/// A private copy of the Python worker package <c>_cs_futures_worker</c> (<c>python/_cs_futures_worker</c>,
/// standard library only: the worker process, the pickler, the interpreter-pool calls and the host helpers
/// <c>_host.py</c>), embedded as it is in this assembly and written under the same name to a new directory
/// only this user can open, so that a .NET host needs no installed cs_futures. Its workers start as the
/// Python package's do (<c>_cs_futures_worker.worker_arguments()</c>).
/// </summary>
internal sealed class WorkerPackage : IDisposable
{
    public const string Name = "_cs_futures_worker";
    private const string Prefix = Name + "/"; // the resources' names (Futures.Interop.csproj)

    private WorkerPackage(DirectoryInfo root) => Root = root;

    /// <summary>The directory that contains the package (what goes on <c>sys.path</c>).</summary>
    public DirectoryInfo Root { get; }

    /// <summary>The package's own directory.</summary>
    public string PackageDirectory => Path.Combine(Root.FullName, Name);

    public static WorkerPackage Extract()
    {
        var assembly = typeof(WorkerPackage).Assembly;
        string[] files = assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)).ToArray();
        if (!files.Contains(Prefix + "__init__.py") || !files.Contains(Prefix + "__main__.py"))
        {
            throw new InvalidOperationException($"the embedded worker package {Name} is missing from {assembly.GetName().Name}");
        }
        var root = Directory.CreateTempSubdirectory("csf-py-"); // mode 0700 on Unix
        string package = Directory.CreateDirectory(Path.Combine(root.FullName, Name)).FullName;
        foreach (string file in files)
        {
            using Stream source = assembly.GetManifestResourceStream(file)!;
            using var target = File.Create(Path.Combine(package, file[Prefix.Length..]));
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
