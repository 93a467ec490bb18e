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
        Runtime = PythonRuntime.Start(new PythonRuntimeOptions());
        TestContext.Progress.WriteLine($"Python {Runtime.Version} from {Runtime.Location.LibraryPath} ({Runtime.Location.Source})");
    }

    [OneTimeTearDown]
    public void Stop() => Runtime.Dispose();
}
