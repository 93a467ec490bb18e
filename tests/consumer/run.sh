#!/usr/bin/env bash
# Packs CsFutures, CsFutures.Cluster, CsFutures.Interop.Bridge, CsFutures.Interop and CsFutures.Interop.Cluster, then builds and runs a
# consumer project outside the repository against those packages only, and restores a second one that
# references CsFutures.Interop alone: it must get no Orleans and no Redis (see README.md). Prints
# "consumer: OK" last on success.
source "$(dirname "$0")/../../scripts/common.sh"
need_dotnet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for d in "$work" "$(dirname "$work")" /; do
  if [ -e "$d/Directory.Build.props" ] || [ -e "$d/Directory.Packages.props" ]; then
    echo "consumer: $d has build settings that the consumer would inherit" >&2; exit 1
  fi
done
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$ROOT/Directory.Build.props" | head -1)"
feed="$work/feed" packages="$work/packages" app="$work/app"
mkdir -p "$feed" "$app"
echo "   packing CsFutures, CsFutures.Cluster, CsFutures.Interop.Bridge, CsFutures.Interop and CsFutures.Interop.Cluster $version into a folder feed"
for project in Futures.Native Futures.Cluster Futures.Interop.Bridge Futures.Interop Futures.Interop.Cluster; do
  dotnet pack "$ROOT/src/$project/$project.csproj" -c Release -p:ContinuousIntegrationBuild=true \
    -o "$feed" -v quiet -nologo >"$work/pack-$project.txt" 2>&1 || { cat "$work/pack-$project.txt"; exit 1; }
done
for id in CsFutures CsFutures.Cluster CsFutures.Interop.Bridge CsFutures.Interop CsFutures.Interop.Cluster; do
  for ext in nupkg snupkg; do
    f="$feed/$id.$version.$ext"
    [ -f "$f" ] || { echo "consumer: $f was not produced" >&2; exit 1; }
  done
  # The package README and the XML docs are in the package; the symbols hold the PDB. (The listings
  # are read whole first: grep -q would close the pipe early, and pipefail would count unzip's SIGPIPE.)
  listing="$(unzip -l "$feed/$id.$version.nupkg")" symbols="$(unzip -l "$feed/$id.$version.snupkg")"
  grep -q " README.md$" <<<"$listing" || { echo "consumer: $id has no README" >&2; exit 1; }
  grep -qE "lib/net10.0/.*\.xml$" <<<"$listing" || { echo "consumer: $id has no XML docs" >&2; exit 1; }
  grep -qE "lib/net10.0/.*\.pdb$" <<<"$symbols" || { echo "consumer: $id.snupkg has no PDB" >&2; exit 1; }
  echo "   $id.$version.nupkg $(stat -c %s "$feed/$id.$version.nupkg") bytes, .snupkg $(stat -c %s "$feed/$id.$version.snupkg") bytes"
done
here="$(cd "$(dirname "$0")" && pwd)"
sed "s/@VERSION@/$version/g" "$here/Consumer.csproj.in" >"$app/Consumer.csproj"
cp "$here/Program.cs" "$here/tasks.py" "$app/"
# The packages come from the folder feed only; their dependencies (pythonnet, Microsoft.Extensions.*)
# from the usual source. A private package folder: nothing cached elsewhere can serve them.
cat >"$app/NuGet.Config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local"><package pattern="CsFutures" /><package pattern="CsFutures.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
CONFIG
# A project that references CsFutures.Interop alone (C# hosting Python, no cluster): its restore must
# bring no Orleans and no Redis package (issue 23). Restored first, into the same private folder.
alone="$work/interop-alone"
mkdir -p "$alone"
sed "s/@VERSION@/$version/g" "$here/InteropAlone.csproj.in" >"$alone/InteropAlone.csproj"
cp "$app/NuGet.Config" "$alone/"
echo "   restoring a project that references CsFutures.Interop alone"
(cd "$alone" && dotnet restore --packages "$packages" -v quiet >"$work/restore-alone.txt" 2>&1) || { cat "$work/restore-alone.txt"; exit 1; }
assets="$alone/obj/project.assets.json"
[ -f "$assets" ] || { echo "consumer: $assets was not written" >&2; exit 1; }
# The libraries the restore resolved, one "Name/Version" a line (every one, transitive ones included).
libraries="$(python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["libraries"]))' "$assets")"
grep -q "^CsFutures.Interop/$version$" <<<"$libraries" || { echo "consumer: CsFutures.Interop is not among the restored libraries of $assets" >&2; exit 1; }
unwanted="$(grep -iE "^(Microsoft\.Orleans\.[^/]*|StackExchange\.Redis|CsFutures\.Cluster|CsFutures\.Interop\.Cluster)/" <<<"$libraries" || true)"
if [ -n "$unwanted" ]; then
  echo "consumer: FAILED: a project that references CsFutures.Interop alone restores Orleans, Redis or the cluster packages:" >&2
  sed 's/^/    /' <<<"$unwanted" >&2
  exit 1
fi
echo "   CsFutures.Interop alone: $(wc -l <<<"$libraries") libraries restored, no Microsoft.Orleans.*, StackExchange.Redis or CsFutures.Cluster"
cd "$app"
echo "   restoring into a private package folder, building and running the consumer (outside the repository: $app)"
dotnet restore --packages "$packages" -v quiet >"$work/restore.txt" 2>&1 || { cat "$work/restore.txt"; exit 1; }
[ -f "$packages/csfutures/$version/csfutures.$version.nupkg" ] || { echo "consumer: CsFutures was not restored from the feed" >&2; exit 1; }
NUGET_PACKAGES="$packages" dotnet build -c Release --no-restore -v quiet -nologo >"$work/build.txt" 2>&1 || { grep -E "error|warn" "$work/build.txt" | sort -u; exit 1; }
dotnet "bin/Release/net10.0/Consumer.dll"
