package elle

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

var dataClasses = []class{
	{name: "G0", allow: ww},
	{name: "G1c", allow: ww | wr, needWR: true},
	{name: "G-single", allow: ww | wr | rw, rws: 1},
	{name: "G2", allow: ww | wr | rw, rws: 2},
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
	nodes []int     // checked-transaction indices, sorted
	adj   [][]ledge // by local index
}

type ledge struct {
	to int // local index
	e  *edge
}

func newComponent(g *graph, nodes []int) *component {
	local := make(map[int]int, len(nodes))
	for i, v := range nodes {
		local[v] = i
	}
	c := &component{nodes: nodes, adj: make([][]ledge, len(nodes))}
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
}

// shortest finds a shortest cycle of class c in the component: a breadth-first search
// from every member in turn over (transaction, edges used so far), keeping the first
// shortest one found. Searches stop at the length already found, so once a short cycle
// turns up the rest cost little. It returns nil when the class has no cycle here.
//
// A search finds closed walks, and the shortest walk through a start may pass another
// transaction twice; such a walk splits into simple cycles, and when one of them is of
// the class, it is shorter and found from its own start. A walk no simple cycle of the
// class explains (a G2 made of two G-single cycles, say) is not reported.
func (c *component) shortest(cl class) []step {
	var best []step
	seen := make([]visit, len(c.nodes)*12)
	for start := range c.nodes {
		limit := len(seen) + 1
		if best != nil {
			limit = len(best)
		}
		if cyc := c.search(cl, start, limit, seen); cyc != nil && simple(cyc) {
			best = cyc
			if len(best) == 2 {
				break // no cycle is shorter
			}
		}
	}
	return best
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

// search is one breadth-first search from start for a cycle shorter than limit.
func (c *component) search(cl class, start, limit int, seen []visit) []step {
	for i := range seen {
		seen[i] = visit{dist: -1}
	}
	s0 := state{v: start}
	seen[s0.id()] = visit{prev: -1, dist: 0}
	queue := []state{s0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		d := seen[s.id()].dist
		if d+1 >= limit {
			continue
		}
		for _, le := range c.adj[s.v] {
			for _, kn := range kindNames {
				k := kn.k
				if le.e.kinds&cl.allow&k == 0 {
					continue
				}
				n := next(s, le.to, k)
				if cl.rws < 2 && n.rws > cl.rws {
					continue // rw edges only accumulate
				}
				if le.to == start {
					if cl.closes(n) {
						return c.path(seen, s, visit{prev: s.id(), k: k, e: le.e})
					}
					continue
				}
				if seen[n.id()].dist >= 0 {
					continue
				}
				seen[n.id()] = visit{prev: s.id(), k: k, e: le.e, dist: d + 1}
				queue = append(queue, n)
			}
		}
	}
	return nil
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
