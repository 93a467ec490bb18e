#!/usr/bin/env bash
# no_clang_wheel.sh BUILDER PYTHON DIST LOG: builds the wheel with BUILDER (a Python with setuptools and
# wheel) where clang cannot be found (every clang on PATH covered by /dev/null, which is not executable,
# in a private mount namespace), into DIST, then checks what the build promises for such a machine: the
# message, the runtime-hosted py3-none-any wheel without the native engine, and that it installs into a
# fresh venv of PYTHON and runs on the runtime engine. Prints what it did into LOG; exit status 0 when
# every check held. Needs root (or user namespaces) for unshare -m.
set -euo pipefail
builder="$1" py="$2" dist="$3" log="$4"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cover=()
for clang in $(type -ap clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14 2>/dev/null || true); do
  cover+=("$clang" "$(readlink -f "$clang")")
done
rm -rf "$dist" "$ROOT/build"
status=0
unshare -m --propagation private bash -c '
  for clang in "${@:4}"; do mount --bind /dev/null "$clang"; done
  if command -v clang >/dev/null 2>&1 && [ -x "$(command -v clang)" ]; then echo "clang still found"; exit 1; fi
  "$1" -m pip wheel --no-build-isolation --no-deps -v "$2" -w "$3"' _ "$builder" "$ROOT" "$dist" "${cover[@]}" >"$log" 2>&1 || status=$?
rm -rf "$ROOT/build" "$ROOT/python/cs_futures.egg-info"
if [ $status -ne 0 ]; then echo "no-clang wheel: the build failed (status $status)" >>"$log"; exit 1; fi
check() { if eval "$2"; then echo "no-clang wheel: ok: $1" >>"$log"; else echo "no-clang wheel: FAILED: $1" >>"$log"; status=1; fi; }
wheel="$(ls "$dist"/*.whl 2>/dev/null | head -1)"
check "the build said why it holds no native engine" 'grep -q "cs_futures: clang not found: building the runtime-hosted package only" "$log"'
check "the wheel is py3-none-any ($(basename "${wheel:-none}"))" '[[ "$wheel" == *-py3-none-any.whl ]]'
check "the wheel holds no native engine and holds the .NET assemblies" \
  '"$py" -c "import sys, zipfile; n = zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(any(\"/_engine.\" in x for x in n) or not any(x.endswith(\"_dotnet/Futures.Interop.dll\") for x in n))" "$wheel"'
venv="$(mktemp -d)/venv"
check "it installs into a fresh venv and runs on the runtime engine" \
  '"$py" -m venv "$venv" && "$venv/bin/python" -m pip install -q --no-index "$wheel" && (cd /tmp && "$venv/bin/python" -c "import cs_futures; assert cs_futures.ENGINE == \"runtime\", cs_futures.ENGINE; e = cs_futures.ThreadPoolExecutor(2); assert list(e.map(abs, [-1, -2])) == [1, 2]; e.shutdown()")'
rm -rf "$(dirname "$venv")"
exit $status
