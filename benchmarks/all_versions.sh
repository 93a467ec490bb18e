#!/usr/bin/env bash
# Issue 24's figures on every supported interpreter, in one run, as a Markdown table (docs/performance.md):
#   bash benchmarks/all_versions.sh [--quick]
# python_bench.py --floors on CPython 3.11, 3.12 and 3.13 (this machine's) and 3.14 and 3.15 (the Debian
# sid chroot of scripts/sid.sh, made when missing), one interpreter after the other, on the package of
# this checkout (build it first: ./run.sh or scripts/common.sh's build_all), then one Markdown table
# (python_bench.py --table). Needs a quiet machine: every figure is a ratio or a best-of-7 from one run,
# but two cores shared with a build still move them by tens of per cent.
source "$(dirname "$0")/../scripts/common.sh"
source "$(dirname "$0")/../scripts/sid.sh"
cd "$ROOT"
out="$(mktemp -d)"
files=()
for v in 3.11 3.12 3.13; do
  py="$(find_python "$v")"
  if [ -z "$py" ]; then echo "CPython $v: not found, left out"; continue; fi
  echo "== CPython $v ($py)"
  "$py" benchmarks/python_bench.py --floors "$@" --json "$out/$v.json" | sed -n '/^figure/,$p'
  files+=("$out/$v.json")
done
if need_sid; then
  for v in 3.14 3.15; do
    echo "== CPython $v (Debian sid chroot)"
    LOG="$out" in_sid "python$v" benchmarks/python_bench.py --floors "$@" --json "$out/$v.json" | sed -n '/^figure/,$p'
    files+=("$out/$v.json")
  done
fi
echo
echo "Machine: $(nproc) CPUs; $(date -u +%Y-%m-%d)"
python3 benchmarks/python_bench.py --table "${files[@]}"
