package elle

import "slices"

// class is a kind of dependency cycle, named as Elle names them. Every class but the
// realtime ones lives in the data dependencies alone, so it breaks serializability; a
// realtime class needs at least one real-time edge, so it breaks strict serializability
// only.
type class struct {
	name   string
	allow  kind // the edges the cycle may use
	rws    int  // how many rw edges: 0, exactly 1, or 2 for two or more
	needWR bool // at least one wr edge (G1c: else it is G0)
	needRT bool // at least one rt edge (else it is the data class)
}

// The cycle classes' names; realtimeOf adds "-realtime".
const (
	G0      = "G0"       // write cycle
	G1c     = "G1c"      // circular information flow
	GSingle = "G-single" // read skew: one anti-dependency
	G2      = "G2"       // write skew and friends: several anti-dependencies
)

var dataClasses = []class{
	{name: G0, allow: ww},
	{name: G1c, allow: ww | wr, needWR: true},
	{name: GSingle, allow: ww | wr | rw, rws: 1},
	{name: G2, allow: ww | wr | rw, rws: 2},
}

// realtimeOf is a data class with real-time edges allowed and at least one required.
func realtimeOf(c class) class {
	c.name += "-realtime"
	c.allow |= rt
	c.needRT = true
	return c
}

func (c class) closes(s state) bool {
	rwOK := s.rws == min(c.rws, 2)
	return rwOK && (!c.needWR || s.wr) && (!c.needRT || s.rt)
}

// step is one edge of a cycle: from a transaction, by a dependency kind (and key).
type step struct {
	from int // index into the checked transactions
	k    kind
	key  string
}

// component is one strongly connected component with its edges in local numbering.
type component struct {
	nodes  []int     // checked-transaction indices, sorted
	adj    [][]ledge // by local index
	budget int       // edges one class's search may follow
}

type ledge struct {
	to int // local index
	e  *edge
}

func newComponent(g *graph, nodes []int, budget int) *component {
	local := make(map[int]int, len(nodes))
	for i, v := range nodes {
		local[v] = i
	}
	c := &component{nodes: nodes, adj: make([][]ledge, len(nodes)), budget: budget}
	for i, v := range nodes {
		for j := range g.out[v] {
			e := &g.out[v][j]
			if to, ok := local[e.to]; ok {
				c.adj[i] = append(c.adj[i], ledge{to: to, e: e})
			}
		}
	}
	return c
}

// state is a node of the search: a transaction and what the path to it used so far.
type state struct {
	v      int // local index
	rws    int // rw edges so far, capped at 2
	wr, rt bool
}

func (s state) id() int {
	id := s.v*3 + s.rws
	id = id*2 + b2i(s.wr)
	return id*2 + b2i(s.rt)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type visit struct {
	prev int // state id; -1 at the start
	k    kind
	e    *edge
	dist int
	gen  uint32 // the search that made it; older ones are stale
}

// searchBudget bounds the edges one class's search may follow in one component, so that
// a huge component (a badly broken store's history) cannot stall the check. Within it,
// the cycle found is a shortest one; past it, the best found so far is kept. Sixteen
// million edges take about a second.
const searchBudget = 1 << 24

// shortest finds a shortest cycle of class cl in the component: a breadth-first search
// over (transaction, edges used so far) from every member that has an edge the class
// needs (every cycle of the class passes through one), keeping the first shortest one.
// Searches stop at the length already found, so once a short cycle turns up the rest
// cost little. It returns nil when the class has no cycle here (or none was found within
// searchBudget).
//
// A search finds closed walks, and the shortest walk through a start may pass another
// transaction twice; such a walk splits into simple cycles, and when one of them is of
// the class, it is shorter and found from its own start. A walk no simple cycle of the
// class explains (a G2 made of two G-single cycles, say) is not reported.
func (c *component) shortest(cl class) []step {
	var best []step
	sub := c.subComponents(cl.allow)
	sr := &searcher{c: c, cl: cl, sub: sub, seen: make([]visit, len(c.nodes)*12), budget: c.budget}
	for start := range c.nodes {
		if !sr.canStart(start) {
			continue
		}
		limit := len(sr.seen) + 1
		if best != nil {
			limit = len(best)
		}
		if cyc := sr.search(start, limit); cyc != nil && simple(cyc) {
			best = cyc
		}
		if best != nil && len(best) == 2 || sr.budget <= 0 {
			break // no cycle is shorter, or no more work
		}
	}
	return best
}

// subComponents splits the component along the edges of the kinds allowed: sub[v] names
// the strongly connected part of those edges member v is in, -1 when it is on no cycle
// of them. A cycle of a class stays inside one part, so a class whose parts hold none of
// the edges it needs is ruled out without a search.
func (c *component) subComponents(allow kind) []int {
	succ := make([][]int, len(c.nodes))
	for v, les := range c.adj {
		for _, le := range les {
			if le.e.kinds&allow != 0 {
				succ[v] = append(succ[v], le.to)
			}
		}
	}
	sub := make([]int, len(c.nodes))
	for i := range sub {
		sub[i] = -1
	}
	for i, part := range sccsOf(succ) {
		for _, v := range part {
			sub[v] = i
		}
	}
	return sub
}

// canStart reports whether a member has, inside its part, an edge of the kind every
// cycle of the class needs: rw if it needs one, else wr, else rt, else any it allows.
func (sr *searcher) canStart(v int) bool {
	cl := sr.cl
	need := cl.allow
	switch {
	case cl.rws > 0:
		need = rw
	case cl.needWR:
		need = wr
	case cl.needRT:
		need = rt
	}
	if sr.sub[v] < 0 {
		return false
	}
	for _, le := range sr.c.adj[v] {
		if le.e.kinds&need != 0 && sr.sub[le.to] == sr.sub[v] {
			return true
		}
	}
	return false
}

func simple(cyc []step) bool {
	seen := make(map[int]bool, len(cyc))
	for _, s := range cyc {
		if seen[s.from] {
			return false
		}
		seen[s.from] = true
	}
	return true
}

// searcher runs the breadth-first searches of one class in one component, reusing its
// buffers: a visit counts only when stamped with the current search's generation.
type searcher struct {
	c      *component
	cl     class
	sub    []int // see subComponents
	seen   []visit
	gen    uint32
	queue  []state
	budget int
}

// search is one breadth-first search from start for a cycle shorter than limit.
func (sr *searcher) search(start, limit int) []step {
	sr.gen++
	s0 := state{v: start}
	sr.seen[s0.id()] = visit{prev: -1, gen: sr.gen}
	sr.queue = append(sr.queue[:0], s0)
	for head := 0; head < len(sr.queue) && sr.budget > 0; head++ {
		s := sr.queue[head]
		d := sr.seen[s.id()].dist
		if d+1 >= limit {
			continue
		}
		for _, le := range sr.c.adj[s.v] {
			if sr.sub[le.to] != sr.sub[start] {
				continue // a cycle through start stays in its part
			}
			sr.budget--
			if cyc := sr.follow(s, d, start, le); cyc != nil {
				return cyc
			}
		}
	}
	return nil
}

// follow takes one edge (each of its kinds the class allows) out of state s; it returns
// the cycle when the edge closes one.
func (sr *searcher) follow(s state, d, start int, le ledge) []step {
	for _, kn := range kindNames {
		k := kn.k
		if le.e.kinds&sr.cl.allow&k == 0 {
			continue
		}
		n := next(s, le.to, k)
		switch {
		case sr.cl.rws < 2 && n.rws > sr.cl.rws:
			continue // rw edges only accumulate
		case le.to == start && sr.cl.closes(n):
			return sr.c.path(sr.seen, s, visit{prev: s.id(), k: k, e: le.e})
		case le.to == start || sr.seen[n.id()].gen == sr.gen:
			continue
		}
		sr.seen[n.id()] = visit{prev: s.id(), k: k, e: le.e, dist: d + 1, gen: sr.gen}
		sr.queue = append(sr.queue, n)
	}
	return nil
}

// anyCycle walks the component from its first member along each member's first edge
// until it comes back to a member it passed: in a strongly connected component every
// member has an edge inside it, so the walk closes. Each step takes its edge's first
// kind in the order ww, wr, rw, rt: data dependencies before real time.
func (c *component) anyCycle() []step {
	at := map[int]int{} // local member -> its position in the walk
	var walk []step
	for v := 0; ; {
		if i, ok := at[v]; ok {
			return walk[i:]
		}
		at[v] = len(walk)
		le := c.adj[v][0]
		k := kindNames[slices.IndexFunc(kindNames, func(n kindName) bool { return le.e.kinds&n.k != 0 })].k
		walk = append(walk, step{from: c.nodes[v], k: k, key: le.e.key(k)})
		v = le.to
	}
}

// classify names the class a cycle's edges make.
func classify(cyc []step) string {
	var rws int
	var wrs, rts bool
	for _, s := range cyc {
		switch s.k {
		case rw:
			rws++
		case wr:
			wrs = true
		case rt:
			rts = true
		}
	}
	name := G0
	switch {
	case rws >= 2:
		name = G2
	case rws == 1:
		name = GSingle
	case wrs:
		name = G1c
	}
	if rts {
		return realtimeOf(class{name: name}).name
	}
	return name
}

func next(s state, to int, k kind) state {
	n := state{v: to, rws: s.rws, wr: s.wr || k == wr, rt: s.rt || k == rt}
	if k == rw {
		n.rws = min(n.rws+1, 2)
	}
	return n
}

// path turns the search's parent links into the cycle's steps, from the start.
func (c *component) path(seen []visit, last state, closing visit) []step {
	var rev []step
	rev = append(rev, step{from: c.nodes[last.v], k: closing.k, key: closing.e.key(closing.k)})
	id := last.id()
	for seen[id].prev >= 0 {
		v := seen[id]
		from := v.prev / 12
		rev = append(rev, step{from: c.nodes[from], k: v.k, key: v.e.key(v.k)})
		id = v.prev
	}
	out := make([]step, len(rev))
	for i, s := range rev {
		out[len(rev)-1-i] = s
	}
	return out
}
