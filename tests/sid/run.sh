#!/usr/bin/env bash
# tests/sid/run.sh LOG: CPython 3.14 and 3.15, from Debian sid (scripts/sid.sh: a debootstrap chroot),
# against the built checkout. Run by test.sh in the background beside the host's Python stages; prints
# its report and ends with one line: "sid: N passed, N failed".
#
#   - the Python suite on 3.14 and 3.15 (native engine; the runtime engine on 3.15), test_cluster_nodes
#     aside as on 3.11 and 3.12;
#   - the main job's example under python -m cs_futures on each;
#   - the .NET hosting suite (Futures.Interop.Tests) on a 3.14 libpython;
#   - each version's own test_concurrent_futures (test_interpreter_pool included) under cs_futures,
#     compared with the standard library's own run in the same chroot, in this run
#     (tests/conformance/compare_runs.py: at most 6 differences, each listed with its reason in
#     tests/conformance/known_failures_3.X.txt);
#   - each version's own test_asyncio under python -m cs_futures, with no known failure.
#
# Two streams share the two cores: this one (the suites above, then 3.14's conformance and asyncio)
# and a second (the standard library's baselines, then 3.15's conformance and asyncio). Both mostly
# wait; measured here, about 12 minutes each.
set -euo pipefail
LOG="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$ROOT/scripts/common.sh"
source "$ROOT/scripts/sid.sh"
source "$ROOT/scripts/counting.sh"
cd "$ROOT"
export LOG
passed=0 failed=0

# conformance_and_asyncio VERSION: cs_futures' run of the version's own test_concurrent_futures, then
# its test_asyncio under python -m cs_futures; into $LOG/sid-*VERSION.txt
conformance_and_asyncio() {
  in_sid "python$1" tests/conformance/run_cpython_suite.py --passed-ids "$LOG/sid-ours$1.ids" >"$LOG/sid-conformance$1.txt" 2>&1 || true
  in_sid timeout 900 "python$1" tests/conformance/run_cpython_asyncio.py >"$LOG/sid-asyncio$1.txt" 2>&1 || true
}

(for v in 3.14 3.15; do
   in_sid "python$v" tests/conformance/run_cpython_suite.py --stdlib --passed-ids "$LOG/sid-stdlib$v.ids" >"$LOG/sid-stdlib$v.txt" 2>&1 || true
 done
 conformance_and_asyncio 3.15) &
second_stream=$!

modules=($(cd tests/python && ls test_*.py | grep -v '^test_cluster_nodes\.py$' | sed 's/\.py$//; s/^/tests.python./'))
if [ -f "$ROOT/python/cs_futures/_engine.abi3.so" ]; then
  runs=("3.14 native" "3.15 native" "3.15 runtime")
else
  runs=("3.14 runtime" "3.15 runtime")
fi
for run in "${runs[@]}"; do
  read -r v engine <<<"$run"
  out="$LOG/sid-py$v-$engine.txt"
  stage "Python $v unit tests, $engine engine (Debian sid chroot)"
  status=0
  in_sid env CS_FUTURES_ENGINE="$engine" PYTHONPATH="$ROOT/python" "python$v" -m unittest "${modules[@]}" >"$out" 2>&1 || status=$?
  report_unittest "$out" "$status"
done

stage "the main job's Python example: python -m cs_futures examples/fetch_and_crunch.py on 3.14 and 3.15"
for v in 3.14 3.15; do
  out="$LOG/sid-example$v.txt"
  if in_sid env PYTHONPATH="$ROOT/python" "python$v" -m cs_futures examples/fetch_and_crunch.py >"$out" 2>&1 \
      && grep -q "^fetched 24 documents .* on cs_futures.thread" "$out" \
      && grep -q "^counted 61800 words .* on cs_futures.process" "$out"; then
    echo "   Python $v: $(tail -1 "$out")"; passed=$((passed + 1))
  else
    tail -10 "$out"; echo "   Python $v: the example did not run as on 3.13"; failed=$((failed + 1))
  fi
done

stage ".NET hosting tests (Futures.Interop.Tests) on a CPython 3.14 host (libpython3.14 of the chroot)"
out="$LOG/sid-dotnet-interop3.14.txt"
in_sid env PYTHONNET_PYDLL=/usr/lib/x86_64-linux-gnu/libpython3.14.so.1.0 \
  dotnet test tests/Futures.Interop.Tests -c Release --no-build -v quiet -nologo --logger "console;verbosity=normal" >"$out" 2>&1 || true
if ! grep -E "Python 3\.14\.[0-9]+ .* from /usr/lib/x86_64-linux-gnu/libpython3\.14" "$out" | sed 's/^/   hosted: /'; then
  echo "   the suite did not host CPython 3.14"; failed=$((failed + 1))
fi
grep -E "^Total tests:|^ +(Passed|Failed): " "$out" | tr -s ' ' | paste -sd' ' | sed 's/^/   /' || true
count_dotnet "$out"

conformance_and_asyncio 3.14
wait "$second_stream" || true
for v in 3.14 3.15; do
  stage "CPython $v's own test_concurrent_futures against cs_futures, compared with the standard library's run in the same chroot"
  grep -E "^conformance:" "$LOG/sid-stdlib$v.txt" | sed 's/^/   standard library: /' || echo "   the standard library's run did not finish"
  grep -E "^conformance:" "$LOG/sid-conformance$v.txt" | sed 's/^/   cs_futures:       /' \
    || { tail -20 "$LOG/sid-conformance$v.txt"; echo "   the cs_futures run did not finish"; }
  if [ -s "$LOG/sid-stdlib$v.ids" ] && [ -f "$LOG/sid-ours$v.ids" ] && python3 tests/conformance/compare_runs.py \
      "$LOG/sid-stdlib$v.ids" "$LOG/sid-ours$v.ids" "tests/conformance/known_failures_$v.txt" >"$LOG/sid-compare$v.txt" 2>&1; then
    sed 's/^/   /' "$LOG/sid-compare$v.txt"
    passed=$((passed + $(wc -l <"$LOG/sid-ours$v.ids")))
  else
    sed 's/^/   /' "$LOG/sid-compare$v.txt" 2>/dev/null || true
    grep -E "^(FAIL|ERROR):" "$LOG/sid-conformance$v.txt" | head -20 || true
    echo "   the comparison does not hold"; failed=$((failed + 1))
  fi
  stage "CPython $v's own test_asyncio under python -m cs_futures (Debian sid chroot)"
  count_asyncio "$LOG/sid-asyncio$v.txt"
done

echo "sid: $passed passed, $failed failed"
