#!/usr/bin/env bash
# Pod start-to-exit latency against a bare-namespace baseline, through the real CLI.
#
#   sudo scripts/bench-pod.sh            # N=50 runs of each, --net none
#   N=200 NET=default scripts/bench-pod.sh
#
# It builds bin orrery and a one-binary image (the static podapp test program, which exits 0
# at once when called as /bin/true), imports it and warms the store with one pod, then
# alternates A B A B ...:
#   A: orrery pod run --net $NET IMAGE                       (prepare + run + record exit)
#   B: unshare --fork --pid --mount-proc chroot ROOTFS /bin/true
# on the same extracted rootfs (the image's tree in the store), and prints the median, p90
# and the ratio pod/baseline. Each pod is removed after its run, outside the timed part.
# Everything it makes (temp dir, pods, mounts, cgroups, bridge) is removed on exit.
set -euo pipefail

N=${N:-50}
NET=${NET:-none}
if [ "$(id -u)" -ne 0 ]; then
	echo "bench-pod: needs root (namespaces, overlayfs, cgroups)" >&2
	exit 2
fi
for tool in go unshare chroot; do
	command -v "$tool" >/dev/null || { echo "bench-pod: needs $tool" >&2; exit 2; }
done

cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/orrery-bench.XXXXXX)
cgparent="orrery-bench-$$"
bridge="obench$$"
bridge=${bridge:0:15}
data="$tmp/data"
orrery=("$tmp/orrery")
pod=("${orrery[@]}" pod --data-dir "$data" --cgroup-parent "$cgparent" --bridge "$bridge" --subnet 10.213.250.0/24)

cleanup() {
	set +e
	if [ -x "$tmp/orrery" ] && [ -d "$data" ]; then
		for p in $("${pod[@]}" list --json 2>/dev/null | grep -o '"name":"[^"]*"' | cut -d'"' -f4); do
			"${pod[@]}" stop --force "$p" >/dev/null 2>&1
		done
		"${pod[@]}" gc --grace-period 0 >/dev/null 2>&1
	fi
	# Pods mount only inside their own mount namespaces; anything under $tmp here is a bug,
	# but never leave it behind.
	grep -F "$tmp" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r m; do
		umount -l "$m"
	done
	for d in /sys/fs/cgroup/*/"$cgparent" /sys/fs/cgroup/"$cgparent"; do
		[ -d "$d" ] && rmdir "$d"/* 2>/dev/null; [ -d "$d" ] && rmdir "$d"
	done
	[ -e "/sys/class/net/$bridge" ] && ip link del "$bridge"
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "bench-pod: building into $tmp"
go build -o "$tmp/orrery" ./cmd/orrery
mkdir -p "$tmp/root/bin"
CGO_ENABLED=0 go build -o "$tmp/root/bin/true" ./host/podrt/testdata/podapp
id=$("${orrery[@]}" image --data-dir "$data" build --name bench/true --exec /bin/true "$tmp/root")
rootfs="$data/images/trees/$id/rootfs"
[ -x "$rootfs/bin/true" ] || { echo "bench-pod: no $rootfs/bin/true" >&2; exit 1; }

pod_once() { "${pod[@]}" run --net "$NET" --name "$1" "$id" >/dev/null; }
base_once() { unshare --fork --pid --mount-proc chroot "$rootfs" /bin/true; }

# Warm the store (first tree check, page cache) and both paths.
pod_once warm && "${pod[@]}" rm warm >/dev/null
base_once

podtimes=() basetimes=()
for ((i = 0; i < N; i++)); do
	t0=${EPOCHREALTIME/./}
	pod_once "b$i"
	t1=${EPOCHREALTIME/./}
	base_once
	t2=${EPOCHREALTIME/./}
	podtimes+=($((t1 - t0)))
	basetimes+=($((t2 - t1)))
	"${pod[@]}" rm "b$i" >/dev/null
done

# stats prints "median p90" in milliseconds of the microsecond values given.
stats() {
	printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {
		m = int((NR + 1) / 2); p = int(NR * 0.9 + 0.999999); if (p < 1) p = 1
		printf "%.2f %.2f\n", v[m] / 1000, v[p] / 1000 }'
}
read -r pm pp < <(stats "${podtimes[@]}")
read -r bm bp < <(stats "${basetimes[@]}")
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')
echo "machine: $(nproc) x ${cpu:-?}, kernel $(uname -r), N=$N, net=$NET"
printf '%-34s %10s %10s\n' "" "median ms" "p90 ms"
printf '%-34s %10s %10s\n' "orrery pod run (--net $NET)" "$pm" "$pp"
printf '%-34s %10s %10s\n' "unshare --pid --mount-proc chroot" "$bm" "$bp"
awk -v a="$pm" -v b="$bm" 'BEGIN { printf "ratio pod/baseline (medians): %.1fx\n", a / b }'
