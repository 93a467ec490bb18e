# The newest CPython (3.14, 3.15) from Debian sid, in a chroot made with debootstrap; sourced by
# test.sh after scripts/common.sh. Nothing is built from source and nothing of the host changes:
#
#   need_sid             makes the chroot when it is missing (about 90 s, ~600 MB), cached in
#                        $CS_FUTURES_SID_DIR (default ~/.cache/cs_futures/sid) between runs
#   in_sid CMD [ARG...]  runs CMD inside it, in a private mount namespace, with the checkout and
#                        $LOG (same paths as outside), the .NET install and NuGet's package folder
#                        bind-mounted, so that both engines, dotnet test and the wheel run there
#
# sid's glibc (2.43) is newer than the host's: its libpython cannot be loaded outside the chroot,
# so everything that uses it (the Python suites, the C# hosting tests) runs inside.
SID_DIR="${CS_FUTURES_SID_DIR:-$HOME/.cache/cs_futures/sid}"
# What the tests need there: the interpreters, their shared libraries (C# hosting), CPython's own
# Lib/test (test_concurrent_futures, test_asyncio), venv with pip's bundled wheel (the wheel's
# install), redis-server and openssl (the cluster tests), ICU (the .NET runtime's globalization).
SID_PACKAGES="python3.14,libpython3.14,libpython3.14-testsuite,python3.14-venv,python3.15,libpython3.15,libpython3.15-testsuite,python3.15-venv,redis-server,openssl,libicu-dev"
SID_MIRROR="${CS_FUTURES_SID_MIRROR:-http://deb.debian.org/debian}"

# sid_ready: 0 when the chroot is made, with the packages above.
sid_ready() { [ -f "$SID_DIR/.cs_futures-packages" ] && [ "$(cat "$SID_DIR/.cs_futures-packages")" = "$SID_PACKAGES" ]; }

# need_sid: 0 when the chroot is ready; 1 (with one line saying why) when it cannot be made here.
need_sid() {
  local stamp="$SID_DIR/.cs_futures-packages"
  if sid_ready; then return 0; fi
  if [ "$(id -u)" != 0 ]; then echo "   the sid chroot needs root (debootstrap, chroot, mount): not made"; return 1; fi
  need_program debootstrap debootstrap "CPython 3.14 and 3.15 (a Debian sid chroot)"
  if ! command -v debootstrap >/dev/null 2>&1 && [ ! -x /usr/sbin/debootstrap ]; then
    echo "   debootstrap is not installed and could not be: no sid chroot"; return 1
  fi
  echo "== making the Debian sid chroot for CPython 3.14 and 3.15 in $SID_DIR (debootstrap, about 90 s; cached)"
  local started=$SECONDS
  rm -rf "$SID_DIR.new"
  mkdir -p "$(dirname "$SID_DIR")"
  if ! PATH="$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase --include="$SID_PACKAGES" sid "$SID_DIR.new" "$SID_MIRROR" \
      >"$(dirname "$SID_DIR")/debootstrap.log" 2>&1; then
    echo "   debootstrap failed (see $(dirname "$SID_DIR")/debootstrap.log): $(tail -1 "$(dirname "$SID_DIR")/debootstrap.log")"
    rm -rf "$SID_DIR.new"; return 1
  fi
  rm -rf "$SID_DIR"
  mv "$SID_DIR.new" "$SID_DIR"
  echo "$SID_PACKAGES" >"$stamp"
  echo "   made in $((SECONDS - started)) s: $(chroot "$SID_DIR" python3.14 -V), $(chroot "$SID_DIR" python3.15 -V)"
}

# in_sid CMD [ARG...]: runs CMD in the chroot (working directory: the checkout), as root, with the
# environment below; its exit status is CMD's. /dev and /proc are the host's (without /dev/pts,
# asyncio's pty tests fail for the standard library too).
in_sid() {
  local dotnet_dir nuget="${NUGET_PACKAGES:-$HOME/.nuget/packages}"
  dotnet_dir="$(dirname "$(readlink -f "$(command -v dotnet)")")"
  unshare -m --propagation private bash -s "$SID_DIR" "$ROOT" "${LOG:-/nonexistent}" "$dotnet_dir" "$nuget" "$@" <<'EOF'
set -e
dir="$1" root="$2" log="$3" dotnet_dir="$4" nuget="$5"; shift 5
mount --rbind /dev "$dir/dev"
mount -t proc proc "$dir/proc"
mount -t tmpfs tmpfs "$dir/tmp"
for folder in "$root" "$log" "$dotnet_dir" "$nuget"; do
  if [ -d "$folder" ]; then mkdir -p "$dir$folder" && mount --bind "$folder" "$dir$folder"; fi
done
export PATH="$dotnet_dir:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin" DOTNET_ROOT="$dotnet_dir" NUGET_PACKAGES="$nuget" \
  HOME=/root TMPDIR=/tmp DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 LANG=C.UTF-8
exec chroot "$dir" /bin/bash -c 'cd "$0" && exec "$@"' "$root" "$@"
EOF
}
