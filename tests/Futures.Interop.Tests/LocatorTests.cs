namespace CsFutures.Interop.Tests;

public sealed class LocatorTests
{
    [Test]
    public void FindsAnInterpreterWithoutConfiguration()
    {
        var location = PythonLocator.Locate();
        Assert.That(File.Exists(location.LibraryPath), location.LibraryPath);
        Assert.That(location.Version.Minor, Is.InRange(PythonLocator.MinMinor, PythonLocator.MaxMinor));
    }

    [Test]
    public void EmptyHomeGivesTheDocumentedError()
    {
        string empty = Directory.CreateTempSubdirectory("nopython").FullName;
        try
        {
            var ex = Assert.Throws<PythonNotFoundException>(() => PythonLocator.Locate(new PythonRuntimeOptions { Home = empty }));
            Assert.That(ex!.Tried, Has.Count.EqualTo(1));
            Assert.That(ex.Message, Does.Contain(empty).And.Contain("To fix:").And.Contain("PYTHONNET_PYDLL"));
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Test]
    public void EverySourceFailingListsEveryPlaceTried()
    {
        string empty = Directory.CreateTempSubdirectory("nopython").FullName;
        try
        {
            var options = new PythonRuntimeOptions
            {
                PythonExecutable = Path.Combine(empty, "python3"),
                SearchFolders = new List<string> { empty, Path.Combine(empty, "missing") },
            };
            var env = new Dictionary<string, string?> { ["PYTHONNET_PYDLL"] = Path.Combine(empty, "libpython3.12.so"), ["VIRTUAL_ENV"] = empty };
            var ex = Assert.Throws<PythonNotFoundException>(() => PythonLocator.Locate(options, k => env.GetValueOrDefault(k)));
            Assert.That(ex!.Tried, Has.Count.EqualTo(5), string.Join("\n", ex.Tried));
            Assert.That(ex.Tried[0], Does.StartWith("PYTHONNET_PYDLL"));
            Assert.That(ex.Tried[1], Does.StartWith("VIRTUAL_ENV"));
            Assert.That(ex.Message, Does.Contain("no libpython3.X in " + empty));
        }
        finally
        {
            Directory.Delete(empty);
        }
    }

    [Test]
    public void RejectsStaticAndUnsupportedLibraries()
    {
        string dir = Directory.CreateTempSubdirectory("pylibs").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "libpython3.12.a"), "");
            File.WriteAllText(Path.Combine(dir, "libpython3.10.so"), "");
            var ex = Assert.Throws<PythonNotFoundException>(() => PythonLocator.Locate(new PythonRuntimeOptions { LibraryPath = Path.Combine(dir, "libpython3.12.a") }));
            Assert.That(ex!.Message, Does.Contain("static"));
            var options = new PythonRuntimeOptions { UseEnvironmentVariables = false, PythonExecutable = null, SearchFolders = new List<string> { dir } };
            ex = Assert.Throws<PythonNotFoundException>(() => PythonLocator.Locate(options));
            Assert.That(ex!.Message, Does.Contain("libpython3.12.a").And.Contain("libpython3.10.so"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void VirtualEnvironmentOfADebianPythonFindsItsOwnVersionInTheMultiarchFolder()
    {
        // Debian: home = /usr/bin, and /usr/lib/x86_64-linux-gnu holds every version's libpython.
        string prefix = Directory.CreateTempSubdirectory("debian").FullName;
        string venv = Directory.CreateTempSubdirectory("venv").FullName;
        try
        {
            string multiarch = Path.Combine(prefix, "lib", (System.Runtime.InteropServices.RuntimeInformation.OSArchitecture
                == System.Runtime.InteropServices.Architecture.Arm64 ? "aarch64" : "x86_64") + "-linux-gnu");
            Directory.CreateDirectory(multiarch);
            Directory.CreateDirectory(Path.Combine(prefix, "bin"));
            foreach (string name in new[] { "libpython3.14.so.1.0", "libpython3.15.so.1.0" })
            {
                File.WriteAllText(Path.Combine(multiarch, name), "");
            }
            foreach (var (version, expected) in new[] { ("3.14.10", "libpython3.14.so.1.0"), ("3.15.2", "libpython3.15.so.1.0") })
            {
                File.WriteAllText(Path.Combine(venv, "pyvenv.cfg"), $"home = {prefix}/bin\nversion = {version}\n");
                var env = new Dictionary<string, string?> { ["VIRTUAL_ENV"] = venv };
                var found = PythonLocator.Locate(new PythonRuntimeOptions(), k => env.GetValueOrDefault(k));
                Assert.That(Path.GetFileName(found.LibraryPath), Is.EqualTo(expected));
                Assert.That(found.VirtualEnvironment, Is.EqualTo(venv));
            }
        }
        finally
        {
            Directory.Delete(venv, recursive: true);
            Directory.Delete(prefix, recursive: true);
        }
    }

    [Test]
    public void VirtualEnvironmentLeadsToItsHome()
    {
        var real = PythonLocator.Locate();
        string venv = Directory.CreateTempSubdirectory("venv").FullName;
        try
        {
            // <prefix>/lib/libpython3.X.so (pyenv, a source build) or <prefix>/lib/x86_64-linux-gnu/ (Debian's
            // multiarch layout, as in the sid chroot's 3.14 and 3.15 runs).
            string libFolder = Path.GetDirectoryName(real.LibraryPath)!;
            if (Path.GetFileName(libFolder).EndsWith("-linux-gnu", StringComparison.Ordinal))
            {
                libFolder = Path.GetDirectoryName(libFolder)!;
            }
            string prefix = Path.GetDirectoryName(libFolder)!;
            File.WriteAllText(Path.Combine(venv, "pyvenv.cfg"),
                $"home = {prefix}/bin\ninclude-system-site-packages = false\nversion = {real.Version}.1\n");
            var env = new Dictionary<string, string?> { ["VIRTUAL_ENV"] = venv };
            var found = PythonLocator.Locate(new PythonRuntimeOptions(), k => env.GetValueOrDefault(k));
            Assert.That(found.Source, Does.StartWith("VIRTUAL_ENV"));
            Assert.That(found.VirtualEnvironment, Is.EqualTo(venv));
            Assert.That(found.Version, Is.EqualTo(real.Version));
        }
        finally
        {
            Directory.Delete(venv, recursive: true);
        }
    }

    [TestCase("libpython3.11.so", 11)]
    [TestCase("libpython3.12.so.1.0", 12)]
    [TestCase("libpython3.13.dylib", 13)]
    [TestCase("python313.dll", 13)]
    [TestCase("libpython3.so", null)]
    [TestCase("libpython3.14.so.1.0", 14)]
    [TestCase("libpython3.13t.so", 13)]
    [TestCase("python314t.dll", 14)]
    public void ParsesLibraryNames(string name, int? minor)
    {
        Assert.That(PythonLocator.VersionOfLibrary(name)?.Minor, Is.EqualTo(minor));
    }

    [TestCase("libpython3.13t.so", true)]
    [TestCase("libpython3.14td.so.1.0", true)]
    [TestCase("python313t.dll", true)]
    [TestCase("libpython3.13.so", false)]
    [TestCase("libpython3.12d.so", false)]
    [TestCase("python313.dll", false)]
    public void RecognisesFreeThreadedBuilds(string name, bool freeThreaded)
    {
        Assert.That(PythonLocator.IsFreeThreadedLibrary(name), Is.EqualTo(freeThreaded));
    }

    [Test]
    public void AcceptsPythonNetsRangeAndRefusesFreeThreadedAndNewerBuilds()
    {
        Assert.That((PythonLocator.MinMinor, PythonLocator.MaxMinor), Is.EqualTo((11, 15)), "pythonnet 3.2.1 embeds 3.11 to 3.15");
        string dir = Directory.CreateTempSubdirectory("pylibs").FullName;
        try
        {
            foreach (string name in new[] { "libpython3.13t.so", "libpython3.16.so", "libpython3.15.so.1.0" })
            {
                File.WriteAllText(Path.Combine(dir, name), "");
            }
            var ex = Assert.Throws<PythonNotFoundException>(() => PythonLocator.Locate(new PythonRuntimeOptions { LibraryPath = Path.Combine(dir, "libpython3.13t.so") }));
            Assert.That(ex!.Message, Does.Contain("free-threaded build of Python 3.13, not supported yet"));
            ex = Assert.Throws<PythonNotFoundException>(() => PythonLocator.Locate(new PythonRuntimeOptions { LibraryPath = Path.Combine(dir, "libpython3.16.so") }));
            Assert.That(ex!.Message, Does.Contain("is Python 3.16, outside 3.11-3.15"));
            var found = PythonLocator.Locate(new PythonRuntimeOptions { LibraryPath = Path.Combine(dir, "libpython3.15.so.1.0") });
            Assert.That(found.Version, Is.EqualTo(new Version(3, 15)));
            // A folder search takes the newest accepted default build, never the free-threaded one.
            File.Delete(Path.Combine(dir, "libpython3.15.so.1.0"));
            File.WriteAllText(Path.Combine(dir, "libpython3.12.so"), "");
            var options = new PythonRuntimeOptions { UseEnvironmentVariables = false, PythonExecutable = null, SearchFolders = new List<string> { dir } };
            Assert.That(Path.GetFileName(PythonLocator.Locate(options).LibraryPath), Is.EqualTo("libpython3.12.so"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
