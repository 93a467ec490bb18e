#!/usr/bin/env bash
# The main job: builds what is needed, then runs the C# sample (five tasks on the engine's
# ThreadPoolExecutor, collected with AsCompleted), the C# host running Python work, and the unmodified Python example with python -m cs_futures.
source "$(dirname "$0")/scripts/common.sh"
cd "$ROOT"
build_all
echo "== C#: samples/Futures.Sample"
dotnet run --project samples/Futures.Sample -c Release --no-build
echo "== C# hosting Python: samples/Futures.HostedPython (a generic host running work.py's function over a batch)"
dotnet run --project samples/Futures.HostedPython -c Release --no-build
py="$(find_python 3.13)"; [ -n "$py" ] || py="$(find_python 3.12)"; [ -n "$py" ] || py="$(find_python 3.11)"
if [ -z "$py" ]; then echo "error: CPython 3.11-3.13 is required" >&2; exit 2; fi
echo "== Python ($py): python -m cs_futures examples/fetch_and_crunch.py"
PYTHONPATH="$ROOT/python" "$py" -m cs_futures examples/fetch_and_crunch.py
