#!/usr/bin/env bash
# bench: Orrery against etcd v3.7.3 on this machine, side by side, with the same client.
#
#   make bench      or      bash scripts/bench.sh
#
# Builds etcd once, from its Go module, into ${XDG_CACHE_HOME:-$HOME/.cache}/orrery/etcd-v3.7.3
# (set ETCD to use another binary), builds orrery, and starts a 3-member etcd cluster and a
# 3-member Orrery cluster as processes on loopback, data dirs in one temp dir (same disk),
# both with --heartbeat-interval 100 --election-timeout 1000 --snapshot-count 10000. Then,
# ROUNDS times, it runs every workload of `orrery bench` against etcd and then against
# Orrery (A B A B ...), and prints the median of each figure with the ratio Orrery/etcd.
# Finally it loads FILL_KEYS keys of 256 bytes into each cluster and prints each server's
# peak RSS (VmHWM, the largest over its members). Everything it starts is killed and the
# temp dir removed on exit. Knobs (environment): ROUNDS (3), FILL_KEYS (1000000; 0 skips
# the load), SCALE (1: multiplies every request total), BENCH_OUT (a directory to keep
# the raw JSON results in), ORRERY_PPROF=1 (serve /debug/pprof on each Orrery member's
# metrics port, printed at start).
set -euo pipefail

ETCD_VERSION=v3.7.3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-go}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/orrery/etcd-$ETCD_VERSION
ETCD=${ETCD:-$CACHE/etcd}
ROUNDS=${ROUNDS:-3}
FILL_KEYS=${FILL_KEYS:-1000000}
SCALE=${SCALE:-1}
SYSTEMS=(etcd orrery)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orrery-bench.XXXXXX")
declare -A PIDS=()      # system -> "pid pid pid"
declare -A ENDPOINTS=() # system -> "127.0.0.1:p,..."

cleanup() {
	local status=$?
	set +e
	local pid all=()
	for sys in "${!PIDS[@]}"; do
		for pid in ${PIDS[$sys]}; do all+=("$pid"); done
	done
	if ((${#all[@]})); then
		kill -TERM "${all[@]}" 2>/dev/null
		for _ in $(seq 50); do
			for pid in "${all[@]}"; do
				kill -0 "$pid" 2>/dev/null && { sleep 0.1; continue 2; }
			done
			break
		done
		kill -KILL "${all[@]}" 2>/dev/null
		wait 2>/dev/null
	fi
	if [[ $status -ne 0 ]]; then
		for log in "$WORK"/logs/*.log; do
			[[ -f $log ]] || continue
			echo "--- $(basename "$log") (last 15 lines) ---" >&2
			tail -n 15 "$log" >&2
		done
	fi
	if [[ -n ${BENCH_OUT:-} && -d $WORK/results ]]; then
		mkdir -p "$BENCH_OUT" && cp "$WORK"/results/* "$BENCH_OUT"/
	fi
	rm -rf "$WORK"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "bench: FAIL: $*" >&2
	exit 1
}

# --- build -------------------------------------------------------------------------
if [[ ! -x $ETCD ]]; then
	echo "building etcd $ETCD_VERSION into $CACHE (once)"
	mkdir -p "$CACHE/src"
	(
		cd "$CACHE/src"
		[[ -f go.mod ]] || "$GO" mod init x >/dev/null 2>&1
		"$GO" get "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
		"$GO" build -o "$ETCD" go.etcd.io/etcd/server/v3
	)
fi
version=$("$ETCD" --version) || fail "$ETCD --version failed"
[[ $version == *"etcd Version: ${ETCD_VERSION#v}"* ]] || fail "$ETCD is not etcd $ETCD_VERSION: $version"
(cd "$ROOT" && "$GO" build -o "$WORK/orrery" ./cmd/orrery)
mkdir -p "$WORK/logs" "$WORK/results"

# --- ports -------------------------------------------------------------------------
# free_port: a loopback port nobody listens on and not handed out before.
declare -A TAKEN=()
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		[[ -n ${TAKEN[$p]:-} ]] && continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
		TAKEN[$p]=1
		echo "$p"
		return
	done
}

# --- clusters ----------------------------------------------------------------------
# start SYSTEM: three members with the same raft timing, data dirs under $WORK.
start() {
	local sys=$1 i cluster="" peer=() client=() metrics=() args
	for i in 1 2 3; do
		peer[i]=$(free_port)
		client[i]=$(free_port)
		metrics[i]=$(free_port)
		cluster+="${cluster:+,}$sys$i=http://127.0.0.1:${peer[i]}"
	done
	local eps="" pids=""
	for i in 1 2 3; do
		args=(--name "$sys$i" --data-dir "$WORK/data/$sys$i"
			--listen-peer-urls "http://127.0.0.1:${peer[i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peer[i]}"
			--listen-client-urls "http://127.0.0.1:${client[i]}" --advertise-client-urls "http://127.0.0.1:${client[i]}"
			--initial-cluster "$cluster" --initial-cluster-state new
			--heartbeat-interval 100 --election-timeout 1000 --snapshot-count 10000)
		if [[ $sys == etcd ]]; then
			"$ETCD" "${args[@]}" --initial-cluster-token bench --log-level error \
				--quota-backend-bytes $((8 << 30)) >"$WORK/logs/$sys$i.log" 2>&1 &
		else
			if [[ ${ORRERY_PPROF:-} == 1 ]]; then
				args+=(--listen-metrics-urls "http://127.0.0.1:${metrics[i]}" --enable-pprof)
				echo "orrery$i pprof: http://127.0.0.1:${metrics[i]}/debug/pprof/"
			fi
			"$WORK/orrery" node "${args[@]}" --log-level warn >"$WORK/logs/$sys$i.log" 2>&1 &
		fi
		pids+="${pids:+ }$!"
		eps+="${eps:+,}127.0.0.1:${client[i]}"
	done
	PIDS[$sys]=$pids
	ENDPOINTS[$sys]=$eps
}

# ready SYSTEM: wait (up to 30 s) until a put through every endpoint succeeds.
ready() {
	local sys=$1 ep pid
	for _ in $(seq 60); do
		for pid in ${PIDS[$sys]}; do
			kill -0 "$pid" 2>/dev/null || fail "$sys member $pid exited"
		done
		local ok=1
		for ep in ${ENDPOINTS[$sys]//,/ }; do
			timeout 5 "$WORK/orrery" bench put --endpoints "$ep" --total 1 >/dev/null 2>&1 || { ok=0; break; }
		done
		((ok)) && return 0
		sleep 0.5
	done
	fail "$sys cluster did not become ready"
}

for sys in "${SYSTEMS[@]}"; do start "$sys"; done
for sys in "${SYSTEMS[@]}"; do ready "$sys"; done
echo "clusters up: etcd ${ENDPOINTS[etcd]}, orrery ${ENDPOINTS[orrery]}"

# --- workloads -----------------------------------------------------------------------
# Each workload: a name and the arguments of `orrery bench` (totals sized for a few
# seconds each on a 2-core machine).
s() { echo $(($1 * SCALE)); }
WORKLOADS=(put get sget txn put1 watch lease)
declare -A ARGS=(
	[put]="put --conns 8 --clients 64 --keys 100000 --total $(s 12000)"
	[get]="get --conns 8 --clients 64 --keys 100000 --total $(s 24000)"
	[sget]="sget --conns 8 --clients 64 --keys 100000 --total $(s 40000)"
	[txn]="txn --conns 8 --clients 64 --total $(s 8000)"
	[put1]="put --conns 1 --clients 1 --keys 100000 --total $(s 1000)"
	[watch]="watch --conns 8 --watchers 1000 --rate 100 --keys 1000 --total $(s 300)"
	[lease]="lease --conns 8 --clients 64 --total $(s 20000)"
)

# bench SYSTEM WORKLOAD: one run, its JSON line appended to results/SYSTEM-WORKLOAD.jsonl.
bench() {
	local sys=$1 w=$2 out
	# shellcheck disable=SC2086 # ARGS are word lists
	out=$("$WORK/orrery" bench --json --value-size 256 --endpoints "${ENDPOINTS[$sys]}" ${ARGS[$w]} 2>"$WORK/logs/bench.err") ||
		fail "orrery bench ${ARGS[$w]} against $sys: $out $(cat "$WORK/logs/bench.err")"
	echo "$out" >>"$WORK/results/$sys-$w.jsonl"
	printf '  %-6s %-5s %s\n' "$sys" "$w" "$(jq -r '"\(.ops_per_sec|floor) ops/s  p50 \(.p50_ms) ms  p99 \(.p99_ms) ms  errors \(.errors)"' <<<"$out")"
}

# Fill the put/get key space once so that gets find their keys.
for sys in "${SYSTEMS[@]}"; do
	"$WORK/orrery" bench fill --json --conns 8 --clients 16 --keys 100000 --value-size 256 --endpoints "${ENDPOINTS[$sys]}" >/dev/null ||
		fail "fill $sys"
done
for r in $(seq "$ROUNDS"); do
	echo "round $r of $ROUNDS"
	for w in "${WORKLOADS[@]}"; do
		for sys in "${SYSTEMS[@]}"; do bench "$sys" "$w"; done
	done
done

# --- memory --------------------------------------------------------------------------
# peak_rss SYSTEM: the largest VmHWM of its members, in MiB.
peak_rss() {
	local pid kb max=0
	for pid in ${PIDS[$1]}; do
		kb=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
		((kb > max)) && max=$kb
	done
	echo $((max / 1024))
}
declare -A RSS_WORK=() RSS_FILL=() FILL_SECS=()
for sys in "${SYSTEMS[@]}"; do RSS_WORK[$sys]=$(peak_rss "$sys"); done
if ((FILL_KEYS > 0)); then
	for sys in "${SYSTEMS[@]}"; do
		echo "loading $FILL_KEYS keys of 256 bytes into $sys"
		start_s=$(date +%s.%N)
		"$WORK/orrery" bench fill --json --conns 8 --clients 16 --txn-ops 100 --keys "$FILL_KEYS" --value-size 256 \
			--endpoints "${ENDPOINTS[$sys]}" >"$WORK/results/$sys-fill.jsonl" || fail "fill $sys"
		FILL_SECS[$sys]=$(awk -v a="$start_s" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
		RSS_FILL[$sys]=$(peak_rss "$sys")
	done
fi

# --- report --------------------------------------------------------------------------
# median SYSTEM WORKLOAD FIELD
median() {
	jq -r ".$3" "$WORK/results/$1-$2.jsonl" | sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) { print "nan"; exit }
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# row LABEL WORKLOAD FIELD TARGET: TARGET is ">=" (higher is better), "<=" or "" (no target).
row() {
	local e o
	if [[ $2 == rss_* ]]; then
		local -n tab=${2}_tab
		e=${tab[etcd]} o=${tab[orrery]}
	else
		e=$(median etcd "$2" "$3") o=$(median orrery "$2" "$3")
	fi
	awk -v l="$1" -v e="$e" -v o="$o" -v t="$4" 'BEGIN {
		r = (e > 0) ? o / e : 0
		met = ""
		if (t == ">=") met = (r >= 1.0) ? "met" : "MISSED"
		if (t == "<=") met = (r <= 1.0) ? "met" : "MISSED"
		if (t != "") t = t " 1.0"
		printf "| %-52s | %10s | %10s | %6.2f | %-6s | %-6s |\n", l, f(e), f(o), r, t, met }
		function f(x) { return (x >= 100) ? sprintf("%.0f", x) : sprintf("%.2f", x) }'
}
declare -A rss_work_tab=() rss_fill_tab=()
for sys in "${SYSTEMS[@]}"; do
	rss_work_tab[$sys]=${RSS_WORK[$sys]}
	rss_fill_tab[$sys]=${RSS_FILL[$sys]:-0}
done

echo
echo "Orrery vs etcd $ETCD_VERSION: 3 members each on loopback, $(nproc) cores, $(go version | awk '{print $3}'),"
echo "256-byte values, medians of $ROUNDS alternating rounds (ratio = Orrery / etcd)"
echo
printf '| %-52s | %10s | %10s | %6s | %-6s | %-6s |\n' workload etcd orrery ratio target status
echo "|------------------------------------------------------|-----------:|-----------:|-------:|--------|--------|"
row "put, 64 clients / 8 conns: ops/s" put ops_per_sec ">="
row "put, 64 clients / 8 conns: p99 ms" put p99_ms "<="
row "linearizable get, 64 clients: ops/s" get ops_per_sec ">="
row "linearizable get, 64 clients: p99 ms" get p99_ms ""
row "serializable get, 64 clients: ops/s" sget ops_per_sec ""
row "txn (CAS), 64 clients: ops/s" txn ops_per_sec ""
row "put, 1 client: p50 ms" put1 p50_ms "<="
row "watch, 1000 watchers, 100 puts/s: delivery p50 ms" watch p50_ms ""
row "watch, 1000 watchers, 100 puts/s: delivery p99 ms" watch p99_ms "<="
row "lease keep-alive, 64 clients: ops/s" lease ops_per_sec ""
row "peak RSS after the workloads: MiB" rss_work "" ""
if ((FILL_KEYS > 0)); then
	row "peak RSS after loading $FILL_KEYS keys: MiB" rss_fill "" "<="
	echo
	echo "loading $FILL_KEYS keys (Txns of 100 puts, 16 clients): etcd ${FILL_SECS[etcd]} s, orrery ${FILL_SECS[orrery]} s"
fi
