package elle

import (
	"fmt"
	"slices"
)

// inferKey judges the reads of one key on their own (duplicates, garbage, aborted and
// intermediate reads), infers the key's version order and adds the dependencies it
// implies.
//
// Every read of a list is a prefix of the one true order of appends, so the longest read
// is the order as far as anyone saw it; a read that is not a prefix of it means no single
// order exists (incompatible-order), and the key then yields no dependencies.
func (a *analysis) inferKey(ks *keyState) {
	for i := range ks.reads {
		a.judgeRead(ks, &ks.reads[i])
	}
	order, ok := a.versionOrder(ks)
	if !ok {
		return
	}
	a.orderEdges(ks, order)
}

func (a *analysis) judgeRead(ks *keyState, r *read) {
	t := a.txns[r.txn]
	seen := make(map[string]bool, len(r.list))
	for _, e := range r.list {
		if seen[e] {
			a.report(Duplicates, fmt.Sprintf("%s read %s as %s, with %s twice", t, ks.key, listText(r.list), e), t)
			r.bad = true
			return
		}
		seen[e] = true
	}
	for _, e := range r.list {
		w, ok := ks.writers[e]
		switch {
		case !ok:
			a.report(Garbage, fmt.Sprintf("%s read %s as %s, but no transaction appended %s to %s", t, ks.key, listText(r.list), e, ks.key), t)
			return
		case w.failed:
			a.report(G1a, fmt.Sprintf("%s read %s as %s, but %s, which appended %s, failed", t, ks.key, listText(r.list), w.txn, e), t, w.txn)
			return
		}
	}
	if len(r.list) == 0 {
		return
	}
	last := r.list[len(r.list)-1]
	if w := ks.writers[last]; w.txn != t && !w.final {
		a.report(G1b, fmt.Sprintf("%s read %s as %s, ending in an intermediate append of %s, which appended to %s again after it",
			t, ks.key, listText(r.list), w.txn, ks.key), t, w.txn)
	}
}

// versionOrder returns the longest read (the first of the longest), and false when some
// read is not a prefix of it.
func (a *analysis) versionOrder(ks *keyState) ([]string, bool) {
	var longest *read
	for i := range ks.reads {
		if r := &ks.reads[i]; !r.bad && (longest == nil || len(r.list) > len(longest.list)) {
			longest = r
		}
	}
	if longest == nil {
		return nil, true
	}
	for i := range ks.reads {
		r := &ks.reads[i]
		if r.bad || isPrefix(r.list, longest.list) {
			continue
		}
		a.report(IncompatibleOrder, fmt.Sprintf("%s read %s as %s and %s read it as %s: neither list is a prefix of the other",
			a.txns[longest.txn], ks.key, listText(longest.list), a.txns[r.txn], listText(r.list)),
			a.txns[longest.txn], a.txns[r.txn])
		return nil, false
	}
	return longest.list, true
}

func isPrefix(p, l []string) bool { return len(p) <= len(l) && slices.Equal(p, l[:len(p)]) }

// orderEdges adds the dependencies a key's version order implies. Elements appended by
// ok transactions that no read saw (unobserved) came after everything anyone read: their
// writers follow the writer of the last element seen (ww) and every reader (rw). Info
// transactions may never have happened, so they only count where a read saw them.
func (a *analysis) orderEdges(ks *keyState, order []string) {
	writerAt := func(i int) int {
		if i < 0 || i >= len(order) {
			return -1
		}
		if w, ok := ks.writers[order[i]]; ok && !w.failed {
			return w.index
		}
		return -1
	}
	for i := 1; i < len(order); i++ {
		a.edge(writerAt(i-1), writerAt(i), ww, ks.key)
	}
	unobserved := a.unobserved(ks, order)
	for _, u := range unobserved {
		a.edge(writerAt(len(order)-1), u, ww, ks.key)
	}
	for _, r := range ks.reads {
		if r.bad {
			continue
		}
		a.edge(writerAt(len(r.list)-1), r.txn, wr, ks.key)
		if len(r.list) < len(order) {
			a.edge(r.txn, writerAt(len(r.list)), rw, ks.key)
			continue
		}
		for _, u := range unobserved {
			a.edge(r.txn, u, rw, ks.key)
		}
	}
}

// unobserved lists, in order, the ok transactions whose appends to the key no read saw.
func (a *analysis) unobserved(ks *keyState, order []string) []int {
	in := make(map[string]bool, len(order))
	for _, e := range order {
		in[e] = true
	}
	var out []int
	for _, e := range ks.appends {
		if w := ks.writers[e].index; !in[e] && !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

func (a *analysis) edge(from, to int, k kind, key string) {
	if from >= 0 && to >= 0 {
		a.g.add(from, to, k, key)
	}
}

// realtimeEdges adds the real-time order (its transitive reduction, see realtime).
func (a *analysis) realtimeEdges() {
	for i, t := range a.txns {
		for _, p := range t.rtPreds {
			a.g.add(p, i, rt, "")
		}
	}
}

// cycles reports, for each strongly connected component, a shortest cycle of every data
// class it holds, and of the realtime variant of each class it does not. A component
// always holds some cycle; should the searches find none (their budget spent), a cycle
// walked by following edges is reported under the class its edges make.
func (a *analysis) cycles() {
	for _, nodes := range a.g.sccs() {
		c := newComponent(a.g, nodes, searchBudget)
		found := false
		for _, cl := range dataClasses {
			cyc := c.shortest(cl)
			if cyc == nil {
				cl = realtimeOf(cl)
				cyc = c.shortest(cl)
			}
			if cyc != nil {
				a.reportCycle(cl.name, cyc)
				found = true
			}
		}
		if !found {
			cyc := c.anyCycle()
			a.reportCycle(classify(cyc), cyc)
		}
	}
}

// reportCycle spells a cycle out from its first transaction in the history, so that the
// same cycle reads the same whichever member the search started from.
func (a *analysis) reportCycle(kind string, cyc []step) {
	first := 0
	for i, s := range cyc {
		if s.from < cyc[first].from {
			first = i
		}
	}
	cyc = append(cyc[first:len(cyc):len(cyc)], cyc[:first]...)
	var text string
	txns := make([]*Txn, len(cyc))
	for i, s := range cyc {
		t := a.txns[s.from]
		txns[i] = t
		label := s.k.String()
		if s.key != "" {
			label += "(" + s.key + ")"
		}
		text += fmt.Sprintf("%s -%s-> ", t, label)
	}
	text += fmt.Sprintf("T%d", txns[0].ID)
	a.report(kind, text, txns...)
}
