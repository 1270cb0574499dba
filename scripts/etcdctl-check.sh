#!/usr/bin/env bash
# etcdctl-check: the stock etcdctl (v3.7.3) against `orrery cluster up --nodes 3`.
#
# Builds etcdctl once, in a scratch module cached outside the repository
# (${XDG_CACHE_HOME:-$HOME/.cache}/orrery/etcd-v3.7.3; set ETCDCTL to use another
# binary), builds orrery, starts a 3-member cluster on free loopback ports and runs
# etcdctl's everyday commands against it, checking each one's output. Any failed check
# stops the script with a message and a non-zero status; the cluster is always killed and
# its data removed.
#
#   make etcdctl-check      or      bash scripts/etcdctl-check.sh
set -euo pipefail

ETCD_VERSION=v3.7.3
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GO=${GO:-go}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/orrery/etcd-$ETCD_VERSION
ETCDCTL=${ETCDCTL:-$CACHE/etcdctl}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/orrery-etcdctl-check.XXXXXX")
CLUSTER_PID=
BG_PIDS=()

# stop PID...: SIGTERM, a grace period, then SIGKILL.
stop() {
	local pid
	kill -TERM "$@" 2>/dev/null
	for _ in $(seq 50); do
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null && continue 2
		done
		return 0
	done
	kill -KILL "$@" 2>/dev/null
}

cleanup() {
	local status=$?
	set +e
	# Background etcdctls first (elect resigns on SIGTERM, which needs the cluster), then
	# the cluster: cluster up stops its members on SIGTERM.
	stop "${BG_PIDS[@]}"
	[[ -n $CLUSTER_PID ]] && stop "$CLUSTER_PID"
	wait 2>/dev/null
	if [[ $status -ne 0 && -f $WORK/cluster.err ]]; then
		echo "--- cluster log (last 40 lines) ---" >&2
		tail -n 40 "$WORK/cluster.err" >&2
	fi
	rm -rf "$WORK"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CHECKS=0
fail() {
	echo "etcdctl-check: FAIL: $*" >&2
	exit 1
}
ok() {
	CHECKS=$((CHECKS + 1))
	echo "ok  $*"
}
# expect WHAT OUTPUT NEEDLE: OUTPUT must contain NEEDLE.
expect() {
	grep -qF -- "$3" <<<"$2" || fail "$1: output lacks \"$3\"; got:
$2"
}
# expect_eq WHAT GOT WANT
expect_eq() {
	[[ $2 == "$3" ]] || fail "$1: got:
$2
want:
$3"
}
# eventually WHAT CMD...: retry CMD for up to 10 s.
eventually() {
	local what=$1
	shift
	for _ in $(seq 100); do
		if "$@"; then return 0; fi
		sleep 0.1
	done
	fail "$what: never happened"
}

# --- build -------------------------------------------------------------------------
if [[ ! -x $ETCDCTL ]]; then
	echo "building etcdctl $ETCD_VERSION into $CACHE (once)"
	mkdir -p "$CACHE/src"
	(
		cd "$CACHE/src"
		[[ -f go.mod ]] || "$GO" mod init x >/dev/null 2>&1
		"$GO" get "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION"
		"$GO" build -o "$ETCDCTL" go.etcd.io/etcd/etcdctl/v3
	)
fi
version=$("$ETCDCTL" version) || fail "$ETCDCTL version failed"
[[ $version == *"etcdctl version: ${ETCD_VERSION#v}"* ]] || fail "$ETCDCTL is not etcdctl $ETCD_VERSION: $version"
(cd "$ROOT" && "$GO" build -o "$WORK/orrery" ./cmd/orrery)

# --- cluster -----------------------------------------------------------------------
"$WORK/orrery" cluster up --nodes 3 --base-port 0 --data-dir "$WORK/data" >"$WORK/cluster.out" 2>"$WORK/cluster.err" &
CLUSTER_PID=$!
endpoints_printed() {
	kill -0 "$CLUSTER_PID" 2>/dev/null || fail "orrery cluster up exited: $(cat "$WORK/cluster.err")"
	grep -q '^ENDPOINTS=' "$WORK/cluster.out"
}
eventually "cluster up prints its endpoints" endpoints_printed
ENDPOINTS=$(sed -n 's/^ENDPOINTS=//p' "$WORK/cluster.out")
FIRST=${ENDPOINTS%%,*}
echo "cluster up: ENDPOINTS=$ENDPOINTS"

CTL=("$ETCDCTL" --endpoints="$ENDPOINTS" --dial-timeout=3s --command-timeout=5s)
ctl() { "${CTL[@]}" "$@"; }
ready() { ctl put ready yes >/dev/null 2>&1; }
eventually "the cluster takes a write" ready

# --- put, get --prefix, del ---------------------------------------------------------
expect_eq "put" "$(ctl put foo bar)" "OK"
expect_eq "put" "$(ctl put foo2 baz)" "OK"
expect_eq "get --prefix" "$(ctl get foo --prefix)" $'foo\nbar\nfoo2\nbaz'
expect_eq "get --print-value-only" "$(ctl get foo --print-value-only)" "bar"
ok "put, get --prefix"
expect_eq "del" "$(ctl del foo2)" "1"
expect_eq "get after del" "$(ctl get foo2)" ""
expect_eq "del --prefix" "$(ctl put d/1 x >/dev/null && ctl put d/2 y >/dev/null && ctl del d/ --prefix)" "2"
ok "del, del --prefix"

# --- txn (stdin) ----------------------------------------------------------------------
out=$(ctl txn <<'EOF'
value("foo") = "bar"

put foo bar2
put txnkey yes

get foo

EOF
)
expect "txn (success)" "$out" "SUCCESS"
expect_eq "txn wrote" "$(ctl get foo --print-value-only)" "bar2"
expect_eq "txn wrote" "$(ctl get txnkey --print-value-only)" "yes"
out=$(ctl txn <<'EOF'
value("foo") = "bar"

put foo bar3

get foo

EOF
)
expect "txn (failure)" "$out" "FAILURE"
expect "txn (failure branch read)" "$out" "bar2"
expect_eq "txn failure wrote nothing" "$(ctl get foo --print-value-only)" "bar2"
ok "txn success and failure branches"

# --- watch (background) ---------------------------------------------------------------
# Background commands run etcdctl itself, not the ctl function: $! must be etcdctl's PID
# (a function would run in a subshell, and killing that would orphan etcdctl).
"${CTL[@]}" watch w/ --prefix >"$WORK/watch.out" 2>&1 &
BG_PIDS+=($!)
# The watch is in place once it reports a write; keep writing until it does.
watch_saw_first() {
	ctl put w/first 1 >/dev/null
	grep -q '^w/first$' "$WORK/watch.out"
}
eventually "watch sees a put" watch_saw_first
ctl put w/a va >/dev/null
ctl del w/a >/dev/null
watch_saw_delete() { grep -q '^DELETE$' "$WORK/watch.out"; }
eventually "watch sees a delete" watch_saw_delete
expect_eq "watch events" "$(grep -m1 -A1 -x 'w/a' "$WORK/watch.out")" $'w/a\nva'
expect "watch events" "$(cat "$WORK/watch.out")" $'DELETE\nw/a'
ok "watch (put and delete events)"

# --- leases ---------------------------------------------------------------------------
out=$(ctl lease grant 60)
expect "lease grant" "$out" "granted with TTL(60s)"
LEASE=$(awk '{print $2}' <<<"$out")
expect_eq "put --lease" "$(ctl put --lease="$LEASE" lk lv)" "OK"
set +e
out=$(timeout 3 "${CTL[@]}" lease keep-alive "$LEASE" 2>&1)
status=$?
set -e
[[ $status -eq 124 ]] || fail "lease keep-alive ended by itself (status $status): $out"
expect "lease keep-alive" "$out" "lease $LEASE keepalived with TTL(60)"
expect "lease timetolive --keys" "$(ctl lease timetolive "$LEASE" --keys)" "attached keys([lk])"
expect "lease list" "$(ctl lease list)" "$LEASE"
expect "lease revoke" "$(ctl lease revoke "$LEASE")" "lease $LEASE revoked"
expect_eq "revoke deletes the lease's keys" "$(ctl get lk)" ""
out=$(ctl lease grant 2)
SHORT=$(awk '{print $2}' <<<"$out")
ctl put --lease="$SHORT" short v >/dev/null
short_expired() { [[ -z $(ctl get short) ]]; }
eventually "a 2 s lease expires" short_expired
ok "lease grant, keep-alive, timetolive, revoke, expiry"

# --- lock (with a command) ------------------------------------------------------------
out=$(ctl lock mylock -- sh -c 'echo "held $ETCD_LOCK_KEY"')
expect "lock runs its command with the lock held" "$out" "held mylock/"
"${CTL[@]}" lock mylock -- sh -c "echo A-start >>'$WORK/lock.out'; sleep 1.5; echo A-end >>'$WORK/lock.out'" >/dev/null &
HOLDER=$!
BG_PIDS+=("$HOLDER")
lock_held() { grep -q A-start "$WORK/lock.out" 2>/dev/null; }
eventually "the first lock holder starts" lock_held
ctl lock mylock -- sh -c "echo B >>'$WORK/lock.out'" >/dev/null
wait "$HOLDER"
expect_eq "lock excludes" "$(cat "$WORK/lock.out")" $'A-start\nA-end\nB'
ok "lock (commands run one at a time)"

# --- elect (background + elect -l) ----------------------------------------------------
"${CTL[@]}" elect myelection alice >"$WORK/elect.out" 2>&1 &
BG_PIDS+=($!)
elected() { grep -q '^alice$' "$WORK/elect.out"; }
eventually "alice is elected" elected
timeout 3 "${CTL[@]}" elect -l myelection >"$WORK/listen.out" 2>&1 || true
expect "elect -l" "$(cat "$WORK/listen.out")" "alice"
ok "elect, elect -l"

# --- member list, endpoint status, endpoint health ------------------------------------
# Members announce their client URLs about once a second.
members_known() {
	out=$(ctl member list)
	[[ $(grep -c ', started, n[0-9], http://[0-9.:]*, http://[0-9.:]*, false$' <<<"$out") -eq 3 ]]
}
eventually "member list shows 3 started members with client URLs" members_known
for ep in ${ENDPOINTS//,/ }; do
	expect "member list names every client URL" "$out" "http://$ep"
done
ok "member list"
# Columns (etcdctl 3.7): endpoint, ID, version, storage version, db size, in use,
# free %, quota, is leader, is learner, term, index, applied, ...
out=$(ctl endpoint status --cluster)
[[ $(wc -l <<<"$out") -eq 3 ]] || fail "endpoint status --cluster: want 3 members, got:
$out"
[[ $(awk -F', ' '$9 == "true"' <<<"$out" | wc -l) -eq 1 ]] || fail "endpoint status --cluster: want one leader, got:
$out"
ok "endpoint status --cluster (3 members, 1 leader)"
out=$(ctl endpoint health 2>&1)
[[ $(grep -c 'is healthy: successfully committed proposal' <<<"$out") -eq 3 ]] || fail "endpoint health: $out"
ok "endpoint health"

# --- member add (the new member starts from the lines etcdctl prints), member remove ----
# A port nobody listens on, below the kernel's ephemeral range (32768 and up by default):
# a port in that range may be the local end of one of the cluster's own connections,
# which a connect test does not see and a bind then trips over.
free_port() {
	local p lo
	lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	while :; do
		p=$((20000 + RANDOM % (lo - 20000)))
		[[ $p != "${1:-}" ]] || continue
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
PEER4_PORT=$(free_port)
PEER4=http://127.0.0.1:$PEER4_PORT
CLIENT4=http://127.0.0.1:$(free_port "$PEER4_PORT")
out=$(ctl member add n4 --peer-urls="$PEER4")
expect "member add" "$out" 'ETCD_INITIAL_CLUSTER_STATE="existing"'
ID4=$(awk '/^Member .* added/ {print $2}' <<<"$out")
[[ -n $ID4 ]] || fail "member add printed no member ID: $out"
# etcd's ETCD_<NAME> variables are orrery's ORRERY_<NAME>; set only for the new member.
(
	while IFS= read -r line; do
		[[ $line == ETCD_* ]] && eval "export ORRERY_${line#ETCD_}"
	done <<<"$out"
	exec "$WORK/orrery" node --data-dir "$WORK/n4" --listen-peer-urls "$PEER4" --listen-client-urls "$CLIENT4"
) >"$WORK/n4.out" 2>"$WORK/n4.err" &
N4_PID=$!
BG_PIDS+=("$N4_PID")
n4_started() {
	kill -0 "$N4_PID" 2>/dev/null || fail "the new member exited: $(tail -n 20 "$WORK/n4.err")"
	grep -q ", started, n4, $PEER4, $CLIENT4, false$" <<<"$(ctl member list)"
}
eventually "member list shows n4 started" n4_started
# A serializable read shows the new member's own state: poll until it has caught up.
n4_caught_up() { [[ $("$ETCDCTL" --endpoints="${CLIENT4#http://}" get foo --print-value-only --consistency=s 2>/dev/null) == bar2 ]]; }
eventually "the new member caught up (serializable get foo = bar2 on it)" n4_caught_up
ok "member add; orrery node with the printed ETCD_ lines as ORRERY_ joins"
expect "member remove" "$(ctl member remove "$ID4")" "removed from cluster"
n4_exited() { ! kill -0 "$N4_PID" 2>/dev/null; }
eventually "the removed member exits" n4_exited
[[ $(ctl member list | wc -l) -eq 3 ]] || fail "member list after remove: $(ctl member list)"
ok "member remove (the removed member exits)"

# --- snapshot save (one endpoint) and restore -----------------------------------------
out=$("$ETCDCTL" --endpoints="$FIRST" snapshot save "$WORK/snap.db" 2>&1)
expect "snapshot save" "$out" "Snapshot saved at $WORK/snap.db"
[[ -s $WORK/snap.db ]] || fail "snapshot save wrote no file"
out=$("$WORK/orrery" snapshot restore "$WORK/snap.db" --data-dir "$WORK/restored")
expect "orrery snapshot restore of etcdctl's snapshot" "$out" "restored revision"
ok "snapshot save, orrery snapshot restore"

echo "etcdctl-check: all $CHECKS checks passed (etcdctl $ETCD_VERSION, 3 members)"
