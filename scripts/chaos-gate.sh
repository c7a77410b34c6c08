#!/usr/bin/env bash
# The release gate's chaos mode (issue 5): HISTORIES seeded `strata chaos` runs of OPS operations for each fault mix,
# every one of which must end linearizable (and, for the namespace workload, with every invariant kept). Writes one
# line per run to $OUT/gate.tsv and a summary at the end; exits 1 if any run was anomalous or could not finish.
#
#   scripts/chaos-gate.sh                          # 50 histories x 10,000 operations per mix (hours)
#   OUT=gate-release scripts/chaos-gate.sh         # the same, resumable: run it again to go on where it stopped
#   RECORD=docs/chaos-gate-runs.tsv scripts/chaos-gate.sh   # resume from, and add to, the gate record kept in the repo
#   HISTORIES=2 OPS=3000 scripts/chaos-gate.sh     # a short pass
#   MIXES="kill-pause skew-netns" scripts/chaos-gate.sh
#   READS=leader scripts/chaos-gate.sh            # every read through the shard's leader (default mixed: half straight to home replicas)
#   PARALLEL=2 RECORD=docs/chaos-gate-runs.tsv scripts/chaos-gate.sh   # two runs at a time
#
# Mixes: kill-pause, partition-netns, membership, power-loss, skew-netns, namespace, crash-point (crash-point,kill,pause:
# a node restarted with a seeded STRATA_CRASH_POINT dies there while serving), fsync-fail (fsync-fail,kill,pause: a node
# restarted with a seeded fsync failing must stop, and loses its unsynced pages to a power cut before its restart), flip
# (flip,kill,pause: a node restarted over a flipped bit of a WAL, SST or MANIFEST must find it or never read it).
# The netns mixes need root, ip and iptables (scripts/install-prerequisites.sh). FIRST_SEED (default 1) numbers the
# histories. READS is each run's --reads (leader, home or mixed; default mixed) and is recorded with it: a (mix, seed)
# recorded with other reads is not run again.
set -uo pipefail
cd "$(dirname "$0")/.."

HISTORIES="${HISTORIES:-50}"
OPS="${OPS:-10000}"
FIRST_SEED="${FIRST_SEED:-1}"
READS="${READS:-mixed}"
MIXES="${MIXES:-kill-pause partition-netns membership power-loss skew-netns namespace crash-point fsync-fail flip}"
OUT="${OUT:-chaos-gate-$(date -u +%Y%m%dT%H%M%SZ)}"
RECORD="${RECORD:-$OUT/gate.tsv}"
mkdir -p "$OUT" "$(dirname "$RECORD")"

dotnet build src/Strata.Cli --configuration Release --verbosity quiet -nologo >/dev/null || { echo "build failed"; exit 2; }
# The commit every run of this sitting was built from (with "+" when the tree had changes): a gate spread over sittings
# says which code each run tested.
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
record_in_repo="$(realpath -m --relative-to=. "$RECORD")"
leases_in_repo="${record_in_repo%.tsv}-leases.tsv"   # strata chaos gate keeps the lease figures beside the record
if git status --porcelain --untracked-files=no 2>/dev/null | grep -v -F -x -e " M $record_in_repo" -e " M $leases_in_repo" | grep -q .; then commit="$commit+"; fi
strata=(dotnet "artifacts/bin/Strata.Cli/release/strata.dll")
if [[ -n "${STRATA_ARTIFACTS:-}" ]]; then strata=(dotnet "$STRATA_ARTIFACTS/bin/Strata.Cli/release/strata.dll"); fi

faults_of() {
  case "$1" in
    kill-pause)      echo "--faults kill,pause" ;;
    partition-netns) echo "--faults partition,kill --network netns" ;;
    membership)      echo "--faults membership,kill" ;;
    power-loss)      echo "--faults power-loss,kill,pause" ;;
    skew-netns)      echo "--faults skew,isolate,pause --network netns" ;;
    namespace)       echo "--workload namespace --faults kill,pause" ;;
    crash-point)     echo "--faults crash-point,kill,pause" ;;
    flip)            echo "--faults flip,kill,pause" ;;
    fsync-fail)      echo "--faults fsync-fail,kill,pause" ;;
    *) echo "unknown mix $1" >&2; return 1 ;;
  esac
}

# Seed by seed, every mix for one seed before the next seed: a gate stopped early has covered the mixes evenly. An
# existing record ($RECORD, default $OUT/gate.tsv) is resumed: a (mix, seed) already recorded is not run again, and the
# summary counts every recorded run, so one long gate can be spread over several sittings.
if [[ ! -s "$RECORD" ]]; then
  printf 'mix\tseed\texit\tverdict\tseconds\treport\tcommit\treads\n' > "$RECORD"
fi
for mix in $MIXES; do faults_of "$mix" > /dev/null || exit 2; done

# One run: its log next to the reports, one line in the record when it ends.
run_one() {
  local mix="$1" seed="$2" args started log code report verdict
  args="$(faults_of "$mix")"
  started=$(date +%s)
  log="$OUT/$mix-seed$seed.log"
  # shellcheck disable=SC2086
  "${strata[@]}" chaos $args --reads "$READS" --ops "$OPS" --fault-count $((OPS / 500)) --seed "$seed" --out "$OUT/$mix" > "$log" 2>&1
  code=$?
  report="$(grep -Eo 'report: .*' "$log" | tail -1 | cut -c9-)"
  verdict="$(grep -Eo '"verdict": *"[^"]*"' "$report/result.json" 2>/dev/null | head -1 | sed -E 's/.*: *"(.*)"/\1/')"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mix" "$seed" "$code" "${verdict:-?}" $(( $(date +%s) - started )) "$report" "$commit" "$READS" | tee -a "$RECORD"
}

# PARALLEL runs at a time (default 1). Each run has its own ports, directories and network namespaces; a run is mostly
# fault windows and recoveries, so on 2 cores two at a time get through somewhat more runs an hour than one.
PARALLEL="${PARALLEL:-1}"
running=0
for ((i = 0; i < HISTORIES; i++)); do
  seed=$((FIRST_SEED + i))
  for mix in $MIXES; do
    if awk -F'\t' -v m="$mix" -v s="$seed" '$1 == m && $2 == s { found = 1 } END { exit !found }' "$RECORD"; then
      continue
    fi
    if ((running >= PARALLEL)); then
      wait -n
      running=$((running - 1))
    fi
    run_one "$mix" "$seed" &
    running=$((running + 1))
  done
done
wait

# The figures per mix, and the lease figures of every run whose report is on this machine, kept beside the record
# (strata chaos gate: the same summary for a record spread over sittings and machines).
"${strata[@]}" chaos gate --record "$RECORD" || exit 2
bad=$(awk -F'\t' 'NR > 1 && $3 != 0' "$RECORD" | wc -l)
[[ $bad -eq 0 ]]
