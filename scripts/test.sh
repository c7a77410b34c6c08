#!/usr/bin/env bash
# Runs every test of the solution, the way CI does. Installs what the tests need first.
#
#   scripts/test.sh                 all tests (CI mode: default seeds and iterations)
#   scripts/test.sh --filter EXPR   a subset, e.g. --filter "FullyQualifiedName~Namespace"
#
# Long modes are knobs on the same command (docs/TESTING.md), e.g. STRATA_SIM_SEEDS=10000 scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-prerequisites.sh

dotnet restore Strata.slnx --verbosity quiet
dotnet build Strata.slnx --no-restore --configuration Debug --verbosity quiet -nologo

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
dotnet test Strata.slnx --no-build --configuration Debug --logger "trx" --results-directory "$results" "$@" || status=$?

# One closing line over all test assemblies: "Summary: N passed, N failed, N skipped".
python3 - "$results" <<'PY' || true
import sys, glob, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = skipped = 0
for path in glob.glob(sys.argv[1] + "/**/*.trx", recursive=True):
    counters = ET.parse(path).getroot().find("t:ResultSummary/t:Counters", ns)
    if counters is None:
        continue
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    skipped += int(counters.get("notExecuted", 0))
print(f"Summary: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit "$status"
