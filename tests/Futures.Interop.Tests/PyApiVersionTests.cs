using System.Runtime.InteropServices;
using CsFutures.Interop.CPython;

namespace CsFutures.Interop.Tests;

/// <summary>The version-sensitive symbols of the raw C API layer resolve on every supported version,
/// and a free-threaded build is recognised (simulated by the set of exports it has).</summary>
public sealed class PyApiVersionTests
{
    [Test]
    public void FinalizingFunctionFollowsTheRename()
    {
        // 3.13+ (and 3.14, 3.15: stable ABI) export Py_IsFinalizing; 3.11 and 3.12 only the private name.
        Assert.That(PyApi.FinalizingFunction(n => n is "Py_IsFinalizing" or "_Py_IsFinalizing"), Is.EqualTo("Py_IsFinalizing"));
        Assert.That(PyApi.FinalizingFunction(n => n == "Py_IsFinalizing"), Is.EqualTo("Py_IsFinalizing"));
        Assert.That(PyApi.FinalizingFunction(n => n == "_Py_IsFinalizing"), Is.EqualTo("_Py_IsFinalizing"));
    }

    [Test]
    public void FreeThreadedBuildsAreRecognisedByTheirExports()
    {
        Assert.That(PyApi.IsFreeThreaded(n => n == "_Py_MergeZeroLocalRefcount"), Is.True);
        Assert.That(PyApi.IsFreeThreaded(n => n == "_Py_DecRefShared"), Is.True);
        Assert.That(PyApi.IsFreeThreaded(n => n is "Py_IsFinalizing" or "Py_IncRef"), Is.False);
    }

    [Test]
    public void TheInterpreterOfThisRunIsADefaultBuildWithItsFinalizingFunction()
    {
        var library = NativeLibrary.Load(PythonFixture.Runtime.Location.LibraryPath);
        bool Has(string name) => NativeLibrary.TryGetExport(library, name, out _);
        Assert.That(PyApi.IsFreeThreaded(Has), Is.False);
        string expected = PythonFixture.Runtime.Location.Version.Minor >= 13 ? "Py_IsFinalizing" : "_Py_IsFinalizing";
        Assert.That(PyApi.FinalizingFunction(Has), Is.EqualTo(expected));
        Assert.That(PyApi.IsFinalizing, Is.False);
    }
}
