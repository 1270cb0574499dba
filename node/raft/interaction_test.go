package raft

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/stretchr/testify/assert"
)

// TestInteraction runs the scripts in testdata/. Refresh the golden output with
// go test ./node/raft -run TestInteraction -rewrite.
func TestInteraction(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		violations := runScript(t, path)
		// Scripts under testdata/bugs run with a planted bug and must show a violation.
		if strings.Contains(path, "/bugs/") {
			assert.Positive(t, violations, "planted bug not detected by %s", path)
		} else {
			assert.Zero(t, violations, "safety violation in %s", path)
		}
	})
}

func (e *env) handle(t *testing.T, d *datadriven.TestData) error {
	switch d.Cmd {
	case "add-nodes":
		return e.cmdAddNodes(t, d)
	case "campaign":
		return e.node(firstID(t, d)).Campaign()
	case "propose":
		return e.node(firstID(t, d)).Propose([]byte(d.CmdArgs[1].Key))
	case "propose-conf-change":
		return e.cmdConfChange(t, d)
	case "tick-election":
		e.tickElection(firstID(t, d))
	case "tick-heartbeat":
		n := e.node(firstID(t, d))
		for range n.heartbeatTimeout {
			n.Tick()
		}
	case "stabilize":
		e.stabilize(idArgs(t, d)...)
	case "process-ready":
		for _, id := range idArgs(t, d) {
			e.processReady(id)
		}
	case "deliver-msgs":
		e.deliver(idArgs(t, d)...)
	case "drop-msgs":
		e.cmdDrop(t, d)
	case "isolate":
		e.isolate(firstID(t, d))
	case "heal":
		clear(e.cut)
	case "transfer-leadership":
		var from, to uint64
		d.ScanArgs(t, "from", &from)
		d.ScanArgs(t, "to", &to)
		return e.node(from).TransferLeader(to)
	case "read-index":
		return e.readIndex(firstID(t, d), d.CmdArgs[1].Key)
	case "compact":
		return e.compact(firstID(t, d), uint64Arg(t, d.CmdArgs[1].Key))
	case "raft-log":
		e.printf("%s", e.raftLog(firstID(t, d)))
	case "status":
		for _, id := range idArgs(t, d) {
			e.printf("%s", e.node(id).Status())
		}
	case "crash":
		e.crash(firstID(t, d))
	case "crash-in-ready":
		e.crashInReady(firstID(t, d))
	case "restart":
		return e.restart(firstID(t, d))
	default:
		t.Fatalf("unknown command %q", d.Cmd)
	}
	return nil
}

func (e *env) cmdAddNodes(t *testing.T, d *datadriven.TestData) error {
	count := uint64Arg(t, d.CmdArgs[0].Key)
	var cs ConfState
	var snapIndex uint64
	cfg := Config{ElectionTick: 10, HeartbeatTick: 1, MaxInflightMsgs: 256}
	var bugNames []string
	for _, arg := range d.CmdArgs[1:] {
		switch arg.Key {
		case "voters":
			cs.Voters = scanIDs(t, arg)
		case "learners":
			cs.Learners = scanIDs(t, arg)
		case "index":
			arg.Scan(t, 0, &snapIndex)
		case "prevote":
			arg.Scan(t, 0, &cfg.PreVote)
		case "checkquorum":
			arg.Scan(t, 0, &cfg.CheckQuorum)
		case "max-size":
			arg.Scan(t, 0, &cfg.MaxSizePerMsg)
		case "max-inflight":
			arg.Scan(t, 0, &cfg.MaxInflightMsgs)
		case "max-inflight-bytes":
			arg.Scan(t, 0, &cfg.MaxInflightBytes)
		case "max-uncommitted":
			arg.Scan(t, 0, &cfg.MaxUncommittedEntriesSize)
		case "bugs":
			bugNames = append(bugNames, arg.Vals...)
		}
	}
	cfg.Bugs = bugSet(bugNames)
	for range count {
		id := uint64(len(e.ids) + 1)
		if err := e.addNode(id, cs, snapIndex, cfg); err != nil {
			return err
		}
	}
	return nil
}

func (e *env) cmdConfChange(t *testing.T, d *datadriven.TestData) error {
	id := firstID(t, d)
	arg := d.CmdArgs[1]
	target := uint64Arg(t, arg.Vals[0])
	types := map[string]ConfChangeType{
		"add-voter": ConfChangeAddVoter, "promote": ConfChangeAddVoter,
		"add-learner": ConfChangeAddLearner, "remove": ConfChangeRemove,
	}
	typ, ok := types[arg.Key]
	if !ok {
		t.Fatalf("unknown conf change %q", arg.Key)
	}
	return e.node(id).ProposeConfChange(ConfChange{Type: typ, NodeID: target})
}

func (e *env) tickElection(id uint64) {
	n := e.node(id)
	ticks := n.electionTimeout - n.electionElapsed
	if n.role != RoleLeader {
		ticks = n.randomizedTimout - n.electionElapsed
	}
	for range max(ticks, 1) {
		n.Tick()
	}
}

func (e *env) cmdDrop(t *testing.T, d *datadriven.TestData) {
	var from, to uint64
	d.MaybeScanArgs(t, "from", &from)
	d.MaybeScanArgs(t, "to", &to)
	var keep []Message
	for _, m := range e.msgs {
		if (from == 0 || m.From == from) && (to == 0 || m.To == to) {
			e.printf("dropped: %s\n", m)
			continue
		}
		keep = append(keep, m)
	}
	e.msgs = keep
}

func firstID(t *testing.T, d *datadriven.TestData) uint64 {
	if len(d.CmdArgs) == 0 {
		t.Fatalf("%s: missing node id", d.Cmd)
	}
	return uint64Arg(t, d.CmdArgs[0].Key)
}

// idArgs returns the bare numeric arguments (node ids).
func idArgs(t *testing.T, d *datadriven.TestData) []uint64 {
	var ids []uint64
	for _, a := range d.CmdArgs {
		if len(a.Vals) == 0 {
			ids = append(ids, uint64Arg(t, a.Key))
		}
	}
	return ids
}

func scanIDs(t *testing.T, arg datadriven.CmdArg) []uint64 {
	ids := make([]uint64, len(arg.Vals))
	for i, v := range arg.Vals {
		ids[i] = uint64Arg(t, v)
	}
	return ids
}

func uint64Arg(t *testing.T, s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		t.Fatal(fmt.Errorf("bad number %q: %w", s, err))
	}
	return v
}
