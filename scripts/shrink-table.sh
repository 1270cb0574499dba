#!/bin/bash
# Measures the README's shrink table: for each planted bug, the first five failing seeds
# (safety failures) of its world, each shrunk with sim shrink's defaults. Takes ~15 minutes
# on 2 cores. Minimal scenarios go to $OUT (default: a new temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
O=$OUT/orrery
go build -o "$O" ./cmd/orrery
m() {
	local bug=$1 wl=$2 ops=$3 faults=$4 range=$5 seeds s r
	seeds=$("$O" sim sweep --seeds "$range" --workload "$wl" --ops "$ops" --faults "$faults" --bug "$bug" --jobs 2 --check-timeout 3s 2>&1 |
		grep "^FAIL seed" | grep "(safety)" | head -5 | awk '{print $3}' || true)
	for s in $seeds; do
		r=$("$O" sim shrink --seed "$s" --workload "$wl" --ops "$ops" --faults "$faults" --bug "$bug" --jobs 2 --check-timeout 5s \
			--out "$OUT/$bug-$s.json" 2>&1 | grep minimal || true)
		echo "$bug $wl --ops $ops --faults $faults seed $s: ${r:-shrink failed}"
	done
}
m raft.read-without-quorum raftreg 30 all 1-600
m raft.ack-before-sync raftlog 12 all 1-300
m raft.vote-twice raftlog 12 crash,partition 1-1000
m raft.commit-old-term raftlog 30 partition 1-4000
m kv.stale-read kv 30 all 1-300
m kv.txn-nonatomic kv 30 all 1-300
m kv.txn-stale-compare append 30 all 1-300
m kv.watch-skip watch 30 all 1-300
m kv.watch-prevkv-self kv 30 all 1-300
m kv.lease-early lock 30 all 1-300
m rsm.forward-twice all 30 all 1-300
m rsm.snapshot-drops-members members 30 all 1-300
echo "minimal scenarios: $OUT"
