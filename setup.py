"""Build hook: `pip install .` / `pip wheel .` publish the .NET assemblies into the package.

Needs the .NET 10 SDK (`dotnet` on PATH or DOTNET_ROOT). The assemblies are precompiled
(ReadyToRun) for the building machine's platform and keep their IL (elsewhere they are JIT-compiled);
they need a .NET 10 runtime.

With clang on the building machine (Linux x86-64), the engine is also compiled natively (Native AOT)
into the extension module ``cs_futures/_engine.abi3.so`` (stable ABI), which cs_futures then uses
without any .NET runtime, and the wheel is tagged for it (``cp311-abi3-manylinux_2_X_x86_64``: CPython
3.11 and later, 2.X the newest glibc symbol version the library needs, as auditwheel reads it).
Without clang the wheel is the runtime-hosted ``py3-none-any`` one.
``CS_FUTURES_NATIVE=0`` skips the native build.
"""
import os
import platform
import re
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
# The bridge and its cluster side: publishing Futures.Interop.Cluster brings Futures.Interop with it.
PROJECT = os.path.join(HERE, "src", "Futures.Interop.Cluster", "Futures.Interop.Cluster.csproj")
NODE = os.path.join(HERE, "src", "Futures.Cluster.Node", "Futures.Cluster.Node.csproj")
NATIVE = os.path.join(HERE, "src", "Futures.Interop.Native", "Futures.Interop.Native.csproj")
NATIVE_LIBRARY = "Futures.Interop.Native.so"  # what Native AOT publishes
NATIVE_MODULE = "_engine.abi3.so"              # what the package imports (cs_futures._engine)
_native_built = None  # the native module's path once build_py built it, for bdist_wheel's tag


def _dotnet():
    root = os.environ.get("DOTNET_ROOT")
    candidates = [shutil.which("dotnet")]
    if root:
        candidates.insert(0, os.path.join(root, "dotnet"))
    for candidate in candidates:
        if candidate and os.path.exists(candidate):
            return candidate
    raise SystemExit("cs_futures: building needs the .NET 10 SDK (`dotnet` on PATH or DOTNET_ROOT); "
                     "install it from https://dotnet.microsoft.com/download")


class BuildWithDotnet(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "cs_futures", "_dotnet")
        shutil.rmtree(target, ignore_errors=True)
        publish = [_dotnet(), "publish", PROJECT, "-c", "Release", "-o", target, "--nologo", "-v", "quiet"]
        if subprocess.call(publish + ["-p:PublishReadyToRun=true"]) != 0:
            print("cs_futures: ReadyToRun publish failed; publishing IL only (slower first calls)")
            subprocess.check_call(publish)
        # The cluster's node program (python -m cs_futures.cluster worker), in its own folder.
        subprocess.check_call([_dotnet(), "publish", NODE, "-c", "Release", "-o", os.path.join(target, "node"),
                               "--nologo", "-v", "quiet"])
        for folder, _, names in os.walk(target):
            for name in names:
                if name.endswith((".pdb", ".xml")):
                    os.remove(os.path.join(folder, name))
        self._build_native()

    def _build_native(self):
        global _native_built
        module = os.path.join(self.build_lib, "cs_futures", NATIVE_MODULE)
        if os.path.exists(module):
            os.remove(module)  # build_py copied the checkout's; the wheel gets one built now (or none)
        target = os.path.join(self.build_lib, "native-publish")
        shutil.rmtree(target, ignore_errors=True)
        if os.environ.get("CS_FUTURES_NATIVE") == "0":
            print("cs_futures: CS_FUTURES_NATIVE=0: building the runtime-hosted package only")
            return
        if not (sys.platform == "linux" and platform.machine() == "x86_64"):
            print("cs_futures: the native engine is built on Linux x86-64 only: runtime-hosted package only")
            return
        if not shutil.which("clang"):
            print("cs_futures: clang not found: building the runtime-hosted package only")
            return
        if subprocess.call([_dotnet(), "publish", NATIVE, "-c", "Release", "-r", "linux-x64", "-o", target,
                            "--nologo", "-v", "quiet"]) != 0:
            raise SystemExit("cs_futures: the native engine (Native AOT) failed to build (see above); "
                             "set CS_FUTURES_NATIVE=0 to build the runtime-hosted package only")
        shutil.copyfile(os.path.join(target, NATIVE_LIBRARY), module)
        shutil.rmtree(target)
        _native_built = module


try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools before 70: the wheel package's
    from wheel.bdist_wheel import bdist_wheel


def glibc_needed(library):
    """The newest glibc symbol version that *library* references, as (major, minor): what auditwheel
    reads to tag a wheel. From ``readelf`` (binutils, which clang depends on); the building machine's
    glibc when readelf is missing or finds none."""
    try:
        listing = subprocess.run(["readelf", "-V", "--wide", library], capture_output=True, text=True,
                                 check=True).stdout
        versions = {tuple(map(int, v.split("."))) for v in re.findall(r"GLIBC_(\d+\.\d+)", listing)}
    except (OSError, subprocess.CalledProcessError):
        versions = set()
    if versions:
        return max(versions)
    return tuple(map(int, os.confstr("CS_GNU_LIBC_VERSION").split()[1].split(".")[:2]))


class PlatformWheel(bdist_wheel):
    """``py3-none-any`` for the runtime-hosted package; with the native engine inside,
    ``cp311-abi3-manylinux_2_X_x86_64``: an extension module on the stable ABI of CPython 3.11 (so
    every CPython from 3.11), 2.X the newest glibc the library needs."""

    def get_tag(self):
        tag = super().get_tag()
        if not _native_built:
            return tag
        self.root_is_pure = False  # WHEEL says Root-Is-Purelib: false (installed into platlib)
        major, minor = glibc_needed(_native_built)
        return "cp311", "abi3", f"manylinux_{major}_{minor}_x86_64"


setup(cmdclass={"build_py": BuildWithDotnet, "bdist_wheel": PlatformWheel})
