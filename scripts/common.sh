# Shared by run.sh and test.sh: locate the tools, build the .NET side once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

need_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET 10 SDK is required (dotnet not on PATH); see README.md, 'Prerequisites'" >&2
    exit 2
  fi
}

need_program() { # need_program PROGRAM PACKAGE WHY: install Debian's PACKAGE when PROGRAM is missing
  local program="$1" package="$2" why="$3"
  if command -v "$program" >/dev/null 2>&1 || [ -x "/usr/bin/$program" ] || [ -x "/usr/sbin/$program" ]; then
    return 0
  fi
  echo "== installing $package (Debian package) for $why"
  local sudo=""
  if [ "$(id -u)" != "0" ]; then sudo="sudo -n"; fi
  if ! { $sudo apt-get update -qq >/dev/null 2>&1 || true; } \
      || ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1; then
    echo "   could not install $package (apt-get install $package); the tests that need it will fail"
  fi
}

# need_redis: the cluster tests start a real redis-server on a loopback port; install Debian's package
# when it is missing (a fresh CI machine). Only the test scripts need it; a failure to install is
# reported here and the Redis test then fails (never skips).
need_redis() {
  # Debian's package may start a service on 6379; the tests use their own server on a free port.
  need_program redis-server redis-server "the cluster tests (Redis membership)"
  # The cluster's TLS tests in Python make their certificates with the openssl command.
  need_program openssl openssl "the cluster's TLS tests"
}

# need_chromium: the cluster dashboard's test loads the page in headless Chromium (Debian's package);
# a failure to install is reported here and that test then fails (never skips).
need_chromium() {
  need_program chromium chromium "the dashboard test (headless browser)"
}

# find_python 3.11 -> path of a CPython 3.11 interpreter, or empty
find_python() {
  local v="$1" candidate
  for candidate in "python$v" "$HOME/.pyenv/versions/$v"*/bin/python "/root/.pyenv/versions/$v"*/bin/python "/usr/bin/python$v" "/usr/local/bin/python$v"; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$v'.split('.')))" 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 0
}

# Builds the solution and publishes the bridge into the Python package (python/cs_futures/_dotnet): the
# cluster side of the interop layer (Futures.Interop.Cluster), which brings Futures.Interop (pythonnet hosting),
# Futures.Interop.Bridge (the C-API bridge), Futures.Cluster and their dependencies; the runtime-hosted engine starts through it (cs_futures/_loader.py).
build_all() {
  need_dotnet
  echo "== build: dotnet build Futures.sln, publish Futures.Interop.Cluster into python/cs_futures/_dotnet"
  dotnet build "$ROOT/Futures.sln" -c Release -v quiet -nologo
  local project="$ROOT/src/Futures.Interop.Cluster/Futures.Interop.Cluster.csproj" out="$ROOT/python/cs_futures/_dotnet"
  # Precompiled (ReadyToRun) when the SDK can fetch its compiler package; JIT-compiled IL otherwise.
  if ! dotnet publish "$project" -c Release -p:PublishReadyToRun=true -o "$out" -v quiet -nologo >/dev/null; then
    echo "   ReadyToRun publish failed (see above); publishing IL only (slower first calls)"
    dotnet publish "$project" -c Release -o "$out" -v quiet -nologo >/dev/null
  fi
  # The cluster's node program, run by python -m cs_futures.cluster worker (apart: it needs ASP.NET Core
  # for its dashboard; the bridge does not).
  dotnet publish "$ROOT/src/Futures.Cluster.Node/Futures.Cluster.Node.csproj" -c Release -o "$out/node" -v quiet -nologo >/dev/null
  build_native
}

# Publishes the natively compiled engine (Native AOT: no .NET runtime needed at run time) as the
# extension module python/cs_futures/_engine.abi3.so (stable ABI: CPython 3.11 to 3.15), which the
# package then prefers. Needs clang (Debian's package, installed when missing); without it the package
# stays runtime-hosted.
build_native() {
  local module="$ROOT/python/cs_futures/_engine.abi3.so" staging="$ROOT/src/Futures.Interop.Native/bin/publish"
  rm -rf "$ROOT/python/cs_futures/_native" # the location before the engine became an extension module
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    rm -f "$module"; echo "   the native engine is built on Linux x86-64 only: building the runtime-hosted package only"; return 0
  fi
  need_program clang clang "the native engine (Native AOT)"
  if ! command -v clang >/dev/null 2>&1; then
    rm -f "$module"; echo "   clang not found: building the runtime-hosted package only"; return 0
  fi
  echo "== build: dotnet publish Futures.Interop.Native (Native AOT) as python/cs_futures/_engine.abi3.so"
  rm -rf "$staging"
  if ! dotnet publish "$ROOT/src/Futures.Interop.Native/Futures.Interop.Native.csproj" -c Release -r linux-x64 -o "$staging" -v quiet -nologo >/dev/null; then
    rm -f "$module"; echo "   the native engine failed to build (above)"; return 1
  fi
  # Replaced in one rename: a process importing the package meanwhile sees the old file or the new one.
  cp "$staging/Futures.Interop.Native.so" "$module.tmp" && mv -f "$module.tmp" "$module"
}
