#!/usr/bin/env bash
# Issue 6's side-by-side suite in one command. It runs every workload (a–f) twice: once against one Strata node (a
# `strata start` process, like the peers' single servers) and once against three node processes (`--nodes 3`, with
# etcd then running three members). Each time it also runs etcd, Redis and PostgreSQL, started on loopback by the
# bench. It measures the machine's floors in each run. Then it runs the scale mode on one node and on three. All
# tables and plots are collected into $OUT/SUITE.md; every run's own JSON, Markdown and PNG files sit beside it.
#
#   scripts/bench-suite.sh                                        # defaults below: about 1.5 hours on 2 cores
#   DURATION=5s WARMUP=2s WORKLOADS="a c" MODES=1 SCALE_OBJECTS=0 scripts/bench-suite.sh   # a quick pass
#
# Knobs (environment): DURATION (20s) and WARMUP (5s) per target; CONCURRENCY (16); WORKLOADS ("c a b e d f");
# MODES ("1 3": node counts); PEERS (etcd,redis,postgres); DIRECTORY_ENTRIES for (d) (200000); RENAME_SIZES for (f)
# (1000,100000); SCALE_OBJECTS for the scale mode (10000000; 0 skips it); OUT (bench-suite-<time>).
# Missing peers are installed with scripts/install-prerequisites.sh (needs root).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-20s}"
WARMUP="${WARMUP:-5s}"
CONCURRENCY="${CONCURRENCY:-16}"
WORKLOADS="${WORKLOADS:-c a b e d f}"
MODES="${MODES:-1 3}"
PEERS="${PEERS:-etcd,redis,postgres}"
DIRECTORY_ENTRIES="${DIRECTORY_ENTRIES:-200000}"
RENAME_SIZES="${RENAME_SIZES:-1000,100000}"
SCALE_OBJECTS="${SCALE_OBJECTS:-10000000}"
OUT="$(realpath -m "${OUT:-bench-suite-$(date -u +%Y%m%dT%H%M%SZ)}")"
mkdir -p "$OUT"

if ! command -v etcd >/dev/null || ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  scripts/install-prerequisites.sh
fi

dotnet build src/Strata.Cli --configuration Release --verbosity quiet -nologo >/dev/null
strata=(dotnet "${STRATA_ARTIFACTS:-artifacts}/bin/Strata.Cli/release/strata.dll")

work="$(mktemp -d /var/tmp/strata-bench-suite.XXXXXX)"
node_pid=""
cleanup() {
  if [[ -n "$node_pid" ]]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# One `strata start` process on a free port below the ephemeral range, on the same disk as the peers' data.
start_node() {
  local port=$((20000 + RANDOM % 5000))
  "${strata[@]}" start --data "$work/node-$port" --port "$port" > "$OUT/node-$port.log" 2>&1 &
  node_pid=$!
  address="http://127.0.0.1:$port"
  for _ in $(seq 1 120); do
    if "${strata[@]}" cluster status --address "$address" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$node_pid" 2>/dev/null; then echo "the node did not start; see $OUT/node-$port.log" >&2; return 1; fi
    sleep 0.5
  done
  echo "the node did not answer within 60 s; see $OUT/node-$port.log" >&2
  return 1
}

stop_node() {
  kill "$node_pid" 2>/dev/null || true
  wait "$node_pid" 2>/dev/null || true
  node_pid=""
}

suite="$OUT/SUITE.md"
sections="$OUT/sections.md"
: > "$sections"
{
  echo "# strata bench suite"
  echo
  echo "Command: \`DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=$CONCURRENCY WORKLOADS=\"$WORKLOADS\" MODES=\"$MODES\" PEERS=$PEERS DIRECTORY_ENTRIES=$DIRECTORY_ENTRIES RENAME_SIZES=$RENAME_SIZES SCALE_OBJECTS=$SCALE_OBJECTS scripts/bench-suite.sh\`"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr), $(dotnet --version | sed 's/^/.NET SDK /'); started $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/header.md"

# Appends one run's side-by-side (or scale) Markdown to the suite's sections, its headings pushed down two levels.
collect() {
  local title="$1" dir="$2" pattern="$3" file
  file="$(ls -t "$dir"/$pattern 2>/dev/null | head -1 || true)"
  { echo; echo "## $title"; echo; } >> "$sections"
  if [[ -z "$file" ]]; then echo "(no report: the run failed, see its log)" >> "$sections"; return; fi
  # Plots are linked relative to the run's folder.
  sed -E -e 's/^# /### /' -e 's/^## /#### /' -e "s#\]\(([^)/]+\.png)\)#](${dir#"$OUT"/}/\1)#g" "$file" >> "$sections"
}

failed=0
for nodes in $MODES; do
  for w in $WORKLOADS; do
    dir="$OUT/nodes$nodes-$w"
    mkdir -p "$dir"
    args=(bench -w "$w" -c "$CONCURRENCY" -d "$DURATION" --warmup "$WARMUP" --peers "$PEERS" --limits --out "$dir"
          --directory-entries "$DIRECTORY_ENTRIES" --rename-sizes "$RENAME_SIZES")
    echo "== $w on $nodes node(s) against $PEERS"
    if [[ "$nodes" == 1 ]]; then
      start_node
      "${strata[@]}" "${args[@]}" --address "$address" > "$dir/run.log" 2>&1 || { failed=$((failed + 1)); echo "   failed: $dir/run.log"; }
      stop_node
    else
      "${strata[@]}" "${args[@]}" --nodes "$nodes" > "$dir/run.log" 2>&1 || { failed=$((failed + 1)); echo "   failed: $dir/run.log"; }
    fi
    grep -E '^[╭│├╰]' "$dir/run.log" || true
    collect "Workload $w, Strata on $nodes node(s)" "$dir" '*-side-by-side.md'
  done

  if [[ "$SCALE_OBJECTS" != 0 ]]; then
    dir="$OUT/nodes$nodes-scale"
    mkdir -p "$dir"
    echo "== scale mode, $SCALE_OBJECTS objects on $nodes node(s)"
    scale_args=(bench -w scale --objects "$SCALE_OBJECTS" -c "$CONCURRENCY" -d "$DURATION" --warmup "$WARMUP" --out "$dir")
    if [[ "$nodes" == 1 ]]; then
      # In-process, so the bench measures the node's data directory; the node still writes through RocksDB on disk.
      "${strata[@]}" "${scale_args[@]}" --data "$work/scale-node" > "$dir/run.log" 2>&1 || { failed=$((failed + 1)); echo "   failed: $dir/run.log"; }
      rm -rf "$work/scale-node"
    else
      "${strata[@]}" "${scale_args[@]}" --nodes "$nodes" --data "$work/scale-cluster" > "$dir/run.log" 2>&1 || { failed=$((failed + 1)); echo "   failed: $dir/run.log"; }
      rm -rf "$work/scale-cluster"
    fi
    grep -E '^(ingest|reads at|on disk)' "$dir/run.log" || true
    collect "Scale mode, Strata on $nodes node(s)" "$dir" 'scale-*.md'
  fi
done

# One table over every run: each workload's throughput and p99 for Strata and each peer, and the peers' ratios to
# Strata, read from the side-by-side JSON files.
python3 - "$OUT" > "$OUT/summary.md" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
rows = []
for path in sorted(glob.glob(os.path.join(out, "nodes*-*", "*-side-by-side.json"))):
    folder = os.path.basename(os.path.dirname(path))
    nodes, workload = folder[len("nodes"):].split("-", 1)
    data = json.load(open(path))
    results = data["results"]
    base = results[0]
    for r in results:
        name = r.get("targetName") or "strata"
        if name == "etcd" and "3 members" in r.get("target", ""):
            name = "etcd-3"
        rows.append((workload, nodes, name, r, base))
order = {w: i for i, w in enumerate("c a b e d f".split())}
rows.sort(key=lambda r: (order.get(r[0], 99), r[1]))
def ratio(value, baseline):
    return f"{value / baseline:.2f}×" if baseline else "–"
print("## Summary: every workload, every target, from this run")
print()
print("Throughput and p99 of each target, and each as a multiple of Strata's in the same run (one row per target;")
print("the sections below have p50, p99.9, the per-operation tables, the machine's floors and the plots).")
print()
print("| workload | Strata nodes | target | ops/s | ops/s ÷ strata | p99 ms | p99 ÷ strata | errors |")
print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
for workload, nodes, name, r, base in rows:
    p99, base_p99 = r["latency"]["p99Ms"], base["latency"]["p99Ms"]
    rate = f"{r['throughput']:,.1f}" if r["throughput"] < 100 else f"{r['throughput']:,.0f}"
    print(f"| {workload} | {nodes} | {name} | {rate} | {ratio(r['throughput'], base['throughput'])} | {p99:.2f} | {ratio(p99, base_p99)} | {r['errors']:,} |")
scale = sorted(glob.glob(os.path.join(out, "nodes*-scale", "scale-*.json")))
if scale:
    print()
    print("| scale mode: Strata nodes | objects | ingest objects/s | read p99 at N/10 | read p99 at N | p99 growth | bytes / object / replica |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path in scale:
        nodes = os.path.basename(os.path.dirname(path))[len("nodes"):].split("-", 1)[0]
        d = json.load(open(path))
        size = d.get("bytesPerObjectPerReplica")
        print(f"| {nodes} | {d['objects']:,} | {d['ingestPerSecond']:,.0f} | {d['readsAtTenth']['latency']['p99Ms']:.2f} ms | {d['readsAtFull']['latency']['p99Ms']:.2f} ms | {d['p99Growth']:.2f}× | {size if size is not None else '–'} |")
PY
cat "$OUT/header.md" "$OUT/summary.md" "$sections" > "$suite"
rm -f "$OUT/header.md" "$OUT/summary.md" "$sections"

echo "suite: $suite ($failed failed runs)"
[[ $failed -eq 0 ]]
