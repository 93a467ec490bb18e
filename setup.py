"""Build hook: `pip install .` / `pip wheel .` publish the .NET assemblies into the package.

Needs the .NET 10 SDK (`dotnet` on PATH or DOTNET_ROOT). The assemblies are precompiled
(ReadyToRun) for the building machine's platform and keep their IL, so the wheel stays
platform-independent (elsewhere they are JIT-compiled); at run time cs_futures needs a .NET 10 runtime.
"""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT = os.path.join(HERE, "src", "Futures.Interop", "Futures.Interop.csproj")
NODE = os.path.join(HERE, "src", "Futures.Cluster.Node", "Futures.Cluster.Node.csproj")


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


setup(cmdclass={"build_py": BuildWithDotnet})
