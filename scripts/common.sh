# Shared by run.sh and test.sh: locate the tools, build the .NET side once.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

need_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "error: the .NET 10 SDK is required (dotnet not on PATH); see README 'Prerequisites'" >&2
    exit 2
  fi
}

# need_redis: the cluster tests start a real redis-server on a loopback port; install Debian's package
# when it is missing (a fresh CI machine). Only the test scripts need it; a failure to install is
# reported here and the Redis test then fails (never skips).
need_redis() {
  if command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || [ -x /usr/sbin/redis-server ]; then
    return 0
  fi
  echo "== installing redis-server (Debian package) for the cluster tests"
  local sudo=""
  if [ "$(id -u)" != "0" ]; then sudo="sudo -n"; fi
  if ! { $sudo apt-get update -qq >/dev/null 2>&1 || true; } \
      || ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null 2>&1; then
    echo "   could not install redis-server (apt-get install redis-server); the Redis cluster test will fail"
  fi
  # Debian's package may start a service on 6379; the tests use their own server on a free port.
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

# Builds the solution and publishes the bridge into the Python package (python/cs_futures/_dotnet).
build_all() {
  need_dotnet
  echo "== build: dotnet build Futures.sln, publish Futures.Interop into python/cs_futures/_dotnet"
  dotnet build "$ROOT/Futures.sln" -c Release -v quiet -nologo
  local project="$ROOT/src/Futures.Interop/Futures.Interop.csproj" out="$ROOT/python/cs_futures/_dotnet"
  # Precompiled (ReadyToRun) when the SDK can fetch its compiler package; JIT-compiled IL otherwise.
  if ! dotnet publish "$project" -c Release -p:PublishReadyToRun=true -o "$out" -v quiet -nologo >/dev/null; then
    echo "   ReadyToRun publish failed (see above); publishing IL only (slower first calls)"
    dotnet publish "$project" -c Release -o "$out" -v quiet -nologo >/dev/null
  fi
}
