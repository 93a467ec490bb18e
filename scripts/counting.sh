# How the test scripts (test.sh, tests/sid/run.sh) print their stages and count results; sourced.
# Each adds to the caller's $passed and $failed.
export RUN_STARTED_AT="${RUN_STARTED_AT:-$(date +%s)}"  # set once, by the outermost script

# stage TITLE: prints the title with the time since the run started (where the run's minutes go)
stage() { local t=$(($(date +%s) - RUN_STARTED_AT)); printf '== [%d:%02d] %s\n' $((t / 60)) $((t % 60)) "$*"; }

# sum_of PATTERN FILE: the sum of the numbers in the matches of PATTERN (0 when none)
sum_of() { { grep -oE "$1" "$2" || true; } | { grep -oE "[0-9]+" || true; } | awk '{s+=$1} END {print s+0}'; }

count_unittest() { # log -> adds to passed/failed from unittest's "Ran N tests" and "FAILED (...)"
  local ran bad skipped
  ran=$(sum_of "^Ran [0-9]+ test" "$1")
  bad=$(sum_of "(failures|errors)=[0-9]+" "$1")
  skipped=$(sum_of "skipped=[0-9]+" "$1")
  if [ "$ran" = "0" ]; then echo "   no test ran"; failed=$((failed + 1)); return; fi
  passed=$((passed + ran - bad - skipped)); failed=$((failed + bad))
  if [ "$skipped" != "0" ]; then echo "   ($skipped skipped)"; fi
}

# report_unittest LOG STATUS: prints a unittest run's outcome (its failures when STATUS is not 0) and
# counts it; an interpreter that exits with an error after the tests passed is a failure too.
report_unittest() {
  local out="$1" status="$2"
  if [ "$status" = 0 ]; then
    grep -E "^Ran " "$out" || true
  else
    grep -E "^(FAIL|ERROR):|Error|^Ran |^OK|^FAILED" "$out" | head -40
    if grep -qE "^OK" "$out"; then echo "   the interpreter exited with status $status after the tests"; failed=$((failed + 1)); fi
  fi
  count_unittest "$out"
}

# count_dotnet LOG: adds the counts of dotnet test's summary lines in LOG; a build error, an aborted
# run or no test at all counts as a failure.
count_dotnet() {
  local out="$1" n_pass n_fail
  grep -E "(Passed|Failed)!| error |^ +Failed |^ +Error Message|^ +(Expected|But was):" "$out" || true
  n_pass=$(sum_of "Passed: +[0-9]+" "$out")
  n_fail=$(sum_of "Failed: +[0-9]+" "$out")
  if grep -qE " error |Test Run Aborted" "$out" && [ "$n_fail" = "0" ]; then n_fail=1; echo "   dotnet test reported an error (see above)"; fi
  if [ "$n_pass" = "0" ] && [ "$n_fail" = "0" ]; then echo "   no .NET test ran"; n_fail=1; fi
  passed=$((passed + n_pass)); failed=$((failed + n_fail))
}

# count_asyncio LOG: adds the counts of run_cpython_asyncio.py's summary line (no known failures)
count_asyncio() {
  local out="$1" n_pass n_bad
  if grep -E "^test_asyncio:" "$out"; then
    n_pass=$(grep -oE "^test_asyncio: [0-9]+ run, [0-9]+ passed" "$out" | grep -oE "[0-9]+ passed" | grep -oE "[0-9]+")
    n_bad=$(grep -oE "[0-9]+ failed, [0-9]+ errors" "$out" | grep -oE "[0-9]+" | awk '{s+=$1} END {print s+0}')
    grep -E "^(FAIL|ERROR):" "$out" || true
    passed=$((passed + ${n_pass:-0})); failed=$((failed + ${n_bad:-1}))
  else
    tail -20 "$out"; echo "   test_asyncio run did not finish"; failed=$((failed + 1))
  fi
}
