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
{
  echo "# strata bench suite"
  echo
  echo "Command: \`DURATION=$DURATION WARMUP=$WARMUP CONCURRENCY=$CONCURRENCY WORKLOADS=\"$WORKLOADS\" MODES=\"$MODES\" PEERS=$PEERS DIRECTORY_ENTRIES=$DIRECTORY_ENTRIES RENAME_SIZES=$RENAME_SIZES SCALE_OBJECTS=$SCALE_OBJECTS scripts/bench-suite.sh\`"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr), $(dotnet --version | sed 's/^/.NET SDK /'); started $(date -u +%Y-%m-%dT%H:%M:%SZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$suite"

# Appends one run's side-by-side (or scale) Markdown to the suite, its headings pushed down two levels.
collect() {
  local title="$1" dir="$2" pattern="$3" file
  file="$(ls -t "$dir"/$pattern 2>/dev/null | head -1)"
  { echo; echo "## $title"; echo; } >> "$suite"
  if [[ -z "$file" ]]; then echo "(no report: the run failed, see its log)" >> "$suite"; return; fi
  # Plots are linked relative to the run's folder.
  sed -E -e 's/^# /### /' -e 's/^## /#### /' -e "s#\]\(([^)/]+\.png)\)#](${dir#"$OUT"/}/\1)#g" "$file" >> "$suite"
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
    tail -n 12 "$dir/run.log" | grep -E '^(│|\|)' || true
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

echo "suite: $suite ($failed failed runs)"
[[ $failed -eq 0 ]]
