"""Finding the assemblies and the .NET runtime: clear ImportErrors when either is missing."""
import json
import os
import stat
import tempfile
import textwrap
import unittest

from .support import PACKAGE_PATH, child_env, run_child

BUILD_HINT = "dotnet publish src/Futures.Interop.Cluster -c Release -o python/cs_futures/_dotnet"

# Runs in a child: imports cs_futures._loader (the normal way, so .NET starts from the real
# installation), then points DOTNET_ROOT, PATH and _USUAL_ROOTS at the folders given in argv and
# prints find_runtime()'s answer (or its ImportError) as JSON.
FIND_RUNTIME = textwrap.dedent("""
    import json, os, sys
    from cs_futures import _loader
    dotnet_root, path, usual = json.loads(sys.argv[1])
    if dotnet_root is None:
        os.environ.pop("DOTNET_ROOT", None)
    else:
        os.environ["DOTNET_ROOT"] = dotnet_root
    os.environ["PATH"] = path
    _loader._USUAL_ROOTS = tuple(usual)
    try:
        found = _loader.find_runtime()
    except ImportError as exc:
        print(json.dumps({"error": str(exc)}))
    else:
        print(json.dumps({"found": list(found)}))
    """)


def touch(path, executable=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w"):
        pass
    if executable:
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def fake_root(root, runtimes, fxrs):
    """A folder laid out as a .NET installation (empty files): shared runtimes and host/fxr."""
    for version in runtimes:
        os.makedirs(os.path.join(root, "shared", "Microsoft.NETCore.App", version))
    for version in fxrs:
        touch(os.path.join(root, "host", "fxr", version, "libhostfxr.so"))
    return root


class AssembliesTests(unittest.TestCase):
    """The runtime-hosted engine's assemblies (CS_FUTURES_ENGINE=runtime: the native one, when the
    package holds it, needs none)."""

    def test_import_fails_naming_the_folder_and_how_to_build(self):
        with tempfile.TemporaryDirectory() as empty:
            rc, out, err = run_child(["-c", textwrap.dedent("""
                import json
                try:
                    import cs_futures
                except ImportError as exc:
                    print(json.dumps(str(exc)))
                else:
                    print(json.dumps(None))
                """)], env=child_env(CS_FUTURES_DOTNET_DIR=empty, CS_FUTURES_ENGINE="runtime"))
        self.assertEqual(rc, 0, err)
        message = json.loads(out)
        self.assertIsNotNone(message, "import cs_futures succeeded without assemblies")
        self.assertIn("the .NET assemblies are missing", message)
        self.assertIn("Futures.Interop.dll was not found in " + empty, message)
        self.assertIn("CS_FUTURES_DOTNET_DIR", message)
        self.assertIn(BUILD_HINT, message)

    def test_plain_import_exits_with_the_import_error(self):
        with tempfile.TemporaryDirectory() as empty:
            rc, out, err = run_child(["-c", "import cs_futures"],
                                     env=child_env(CS_FUTURES_DOTNET_DIR=empty, CS_FUTURES_ENGINE="runtime"))
        self.assertEqual(rc, 1)
        self.assertEqual(out, "")
        self.assertIn("\nImportError: cs_futures: the .NET assemblies are missing: "
                      "Futures.Interop.dll was not found in " + empty, err)
        self.assertIn(BUILD_HINT, err)

    def test_a_folder_without_the_bridge_dll_is_refused(self):
        with tempfile.TemporaryDirectory() as folder:
            touch(os.path.join(folder, "Futures.Native.dll"))
            rc, out, err = run_child(["-c", "import cs_futures"],
                                     env=child_env(CS_FUTURES_DOTNET_DIR=folder, CS_FUTURES_ENGINE="runtime"))
        self.assertEqual(rc, 1)
        self.assertIn("Futures.Interop.dll was not found in " + folder, err)


class FindRuntimeTests(unittest.TestCase):
    def find(self, dotnet_root, path, usual):
        rc, out, err = run_child(["-c", FIND_RUNTIME, json.dumps([dotnet_root, path, usual])])
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def test_nothing_found_lists_every_place_looked_at(self):
        with tempfile.TemporaryDirectory() as tmp:
            root, bin_dir, usual_a, usual_b = (os.path.join(tmp, n) for n in ("root", "bin", "ua", "ub"))
            for folder in (root, bin_dir, usual_a):
                os.makedirs(folder)
            answer = self.find(root, bin_dir, [usual_a, usual_b])
        self.assertNotIn("found", answer)
        message = answer["error"]
        self.assertIn("cs_futures needs the .NET runtime Microsoft.NETCore.App 10.0 or later", message)
        self.assertIn("Looked in:", message)
        self.assertIn(f"{root} (DOTNET_ROOT): no runtime", message)
        self.assertIn(f"{usual_a} (usual folder): no runtime", message)
        self.assertIn(f"{usual_b} (usual folder): no runtime", message)
        self.assertNotIn("dotnet on PATH", message)
        self.assertNotIn("/usr/share/dotnet", message)
        self.assertIn("set DOTNET_ROOT", message)
        self.assertIn("https://dotnet.microsoft.com/download", message)

    def test_older_runtimes_are_listed_and_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            old = fake_root(os.path.join(tmp, "old"), ["8.0.11", "9.0.0"], ["9.0.0"])
            answer = self.find(old, os.path.join(tmp, "nobin"), [])
        self.assertIn("error", answer)
        self.assertIn(f"{old} (DOTNET_ROOT): 8.0.11, 9.0.0", answer["error"])

    def test_dotnet_on_path_is_looked_at(self):
        with tempfile.TemporaryDirectory() as tmp:
            root = fake_root(os.path.join(tmp, "viapath"), ["8.0.1"], ["8.0.1"])
            touch(os.path.join(root, "dotnet"), executable=True)
            answer = self.find(None, root, [])
        self.assertIn(f"{root} (dotnet on PATH): 8.0.1", answer["error"])

    def test_a_usable_runtime_is_found_with_the_newest_hostfxr(self):
        with tempfile.TemporaryDirectory() as tmp:
            empty = os.path.join(tmp, "empty")
            os.makedirs(empty)
            good = fake_root(os.path.join(tmp, "good"), ["9.0.3", "10.0.1"], ["9.0.3", "10.0.1", "10.0.10"])
            answer = self.find(empty, empty, [good])
        self.assertEqual(answer.get("found"),
                         [good, os.path.join(good, "host", "fxr", "10.0.10", "libhostfxr.so")], answer)

    def test_the_real_installation_is_found(self):
        # The package imported fine in this process, so its loader found a runtime.
        from cs_futures import _loader
        root, hostfxr = _loader.find_runtime()
        self.assertTrue(os.path.isfile(hostfxr), hostfxr)
        self.assertTrue(hostfxr.startswith(root))

    def test_package_path_is_this_checkout(self):
        import cs_futures
        self.assertEqual(os.path.dirname(os.path.dirname(os.path.abspath(cs_futures.__file__))),
                         PACKAGE_PATH)


if __name__ == "__main__":
    unittest.main()
