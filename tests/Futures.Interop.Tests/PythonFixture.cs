namespace CsFutures.Interop.Tests;

/// <summary>One interpreter for the whole run: started before the first test, shut down after the last.</summary>
[SetUpFixture]
public sealed class PythonFixture
{
    public static PythonRuntime Runtime { get; private set; } = null!;

    public static string TestModule => Path.Combine(TestContext.CurrentContext.TestDirectory, "python", "testfuncs.py");

    [OneTimeSetUp]
    public void Start()
    {
        // The engine module the tests make is the runtime-hosted package's: the cluster's entries too.
        Cluster.Bridge.ClusterEntryPoints.Register();
        Runtime = PythonRuntime.Start(new PythonRuntimeOptions());
        TestContext.Progress.WriteLine($"Python {Runtime.Version} from {Runtime.Location.LibraryPath} ({Runtime.Location.Source})");
    }

    [OneTimeTearDown]
    public void Stop() => Runtime.Dispose();
}
