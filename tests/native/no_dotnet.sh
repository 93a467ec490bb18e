#!/usr/bin/env bash
# no_dotnet.sh PYTHON WHEEL LOG: installs WHEEL into a fresh venv of PYTHON and runs, in a private mount
# namespace where no .NET runtime can be found (every install folder the loader searches, and the one
# that dotnet on PATH leads to, hidden under an empty tmpfs; no DOTNET_ROOT), tests/native/no_dotnet_checks.py,
# which also runs the package's thread-pool, process-pool and migration tests (its load_tests). Prints unittest's output into LOG; exit status is
# unittest's. Needs root (or user namespaces) for unshare -m.
set -euo pipefail
py="$1" wheel="$2" log="$3"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$(mktemp -d)/venv"
"$py" -m venv "$venv" >/dev/null
"$venv/bin/python" -m pip install -q --no-index "$wheel" >/dev/null
hide=()
for folder in /usr/share/dotnet /usr/lib/dotnet /usr/local/share/dotnet /opt/dotnet "$HOME/.dotnet" \
              "$(dirname "$(readlink -f "$(command -v dotnet 2>/dev/null || echo /nonexistent)")")"; do
  if [ -d "$folder" ]; then hide+=("$folder"); fi
done
cd "$ROOT"
# dotnet on PATH (/usr/bin/dotnet) is a link into a hidden folder: no_dotnet_checks asserts that it is gone.
status=0
env -u DOTNET_ROOT -u PYTHONPATH unshare -m --propagation private bash -c '
  for folder in "$@"; do mount -t tmpfs -o size=1m,mode=0755 none "$folder"; done
  exec "'"$venv"'/bin/python" -m unittest tests.native.no_dotnet_checks'  _ "${hide[@]}" >"$log" 2>&1 || status=$?
rm -rf "$(dirname "$venv")"
exit $status
