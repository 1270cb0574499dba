#!/usr/bin/env bash
# Installs every system package the tests need, idempotently: apt-get runs (with one
# update) only when something is missing, so a warm machine pays nothing.
set -euo pipefail

# iproute2: network namespaces and links for the real-host tests.
# nftables: partitions and packet loss for the Jepsen harness.
# busybox-static: a tiny static userland for test container images.
# util-linux: nsenter (pod enter) and unshare.
# chromium: headless rendering test of the Jepsen harness's timeline and plots.
packages=(iproute2 nftables busybox-static util-linux ca-certificates git make chromium)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all present (${packages[*]})"
	exit 0
fi

echo "deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
