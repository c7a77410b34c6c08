#!/usr/bin/env bash
# Installs what building and testing Strata needs on a fresh Debian machine of the project's kind.
# Idempotent: installs only what is missing. The .NET SDK comes with the machine (global.json pins 10.0).
set -euo pipefail

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
# strata chaos --network netns: network namespaces, veth pairs and a bridge (ip), partitions (iptables).
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need+=(iproute2)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || need+=(iptables)
# Power-loss tests: tools/powerloss (an LD_PRELOAD library and its probe) are built with gcc on first use.
command -v gcc >/dev/null 2>&1 || need+=(gcc)
[ -e /usr/include/dlfcn.h ] || need+=(libc6-dev)
# strata bench --peers: the peers measured side by side (etcd 3.4, Redis 7, PostgreSQL 15), started by the bench itself.
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
# strata bench / chaos plots: the text of the PNG charts is drawn with DejaVu Sans, loaded from its file
# (Strata.Bench/Plots/PlotFont.cs); without a font the plots are not drawn and the reports say why.
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-prerequisites: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "install-prerequisites: the .NET 10 SDK is required (dotnet not on PATH)" >&2
  exit 1
fi
