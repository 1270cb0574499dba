package elle

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker/history"
)

// hist builds list-append histories event by event, ten nanoseconds apart. Micro-ops are
// written "a x 1, r y 1 2, r z": append 1 to x, read y as [1 2], read z. An invocation's
// reads are null whatever follows the key; a completion's are the listed elements, so a
// bare "r z" completes as the empty list.
type hist struct {
	events []history.Event
	now    int64
}

func (h *hist) add(p int, typ history.Type, mops string) *hist {
	h.now += 10
	h.events = append(h.events, history.Event{Process: p, Type: typ, F: F, Value: Encode(parseMops(mops, typ == history.OK)), Time: h.now})
	return h
}

func (h *hist) invoke(p int, mops string) *hist { return h.add(p, history.Invoke, mops) }
func (h *hist) ok(p int, mops string) *hist     { return h.add(p, history.OK, mops) }
func (h *hist) fail(p int, mops string) *hist   { return h.add(p, history.Fail, mops) }
func (h *hist) info(p int, mops string) *hist   { return h.add(p, history.Info, mops) }

// txn invokes and completes ok at once: a transaction nothing overlaps.
func (h *hist) txn(p int, mops string) *hist { return h.invoke(p, mops).ok(p, mops) }

func parseMops(s string, reads bool) []Mop {
	var out []Mop
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Fields(part)
		switch f[0] {
		case "a":
			out = append(out, Mop{Append: true, Key: f[1], Elem: f[2]})
		case "r":
			m := Mop{Key: f[1]}
			if reads {
				m.Read, m.Known = append([]string{}, f[2:]...), true
			}
			out = append(out, m)
		default:
			panic("bad micro-op " + part)
		}
	}
	return out
}

func check(t *testing.T, h *hist) Result {
	t.Helper()
	res, err := Check(h.events)
	require.NoError(t, err)
	return res
}
