package elle

import "slices"

// kind is a set of dependency kinds between two transactions.
type kind uint8

const (
	ww kind = 1 << iota // write-write: the second appended the element right after the first's
	wr                  // write-read: the second read a list ending in the first's element
	rw                  // read-write (anti-dependency): the second appended after the version the first read
	rt                  // real time: the first completed before the second was invoked
)

type kindName struct {
	k    kind
	name string
}

// kindNames lists the kinds in the order searches and reports try them.
var kindNames = []kindName{{ww, "ww"}, {wr, "wr"}, {rw, "rw"}, {rt, "rt"}}

func (k kind) String() string {
	for _, n := range kindNames {
		if k == n.k {
			return n.name
		}
	}
	return "?"
}

// edge is every dependency from one transaction to another. keys names, for each data
// kind, the first key (in sorted key order) that gave it, for the report.
type edge struct {
	to    int
	kinds kind
	keys  [3]string // by kind: ww, wr, rw
}

func (e *edge) key(k kind) string {
	if i := keySlot(k); i >= 0 {
		return e.keys[i]
	}
	return ""
}

// keySlot is where edge.keys keeps the key of a data kind; -1 for real time.
func keySlot(k kind) int {
	switch k {
	case ww:
		return 0
	case wr:
		return 1
	case rw:
		return 2
	}
	return -1
}

// graph is the dependency graph over the checked transactions (indices into their list).
type graph struct {
	out [][]edge
	pos []map[int]int // from -> to -> index in out[from], while building
}

func newGraph(n int) *graph {
	return &graph{out: make([][]edge, n), pos: make([]map[int]int, n)}
}

// add records a dependency; self-dependencies say nothing about order and are dropped.
func (g *graph) add(from, to int, k kind, key string) {
	if from == to {
		return
	}
	if g.pos[from] == nil {
		g.pos[from] = map[int]int{}
	}
	i, ok := g.pos[from][to]
	if !ok {
		i = len(g.out[from])
		g.pos[from][to] = i
		g.out[from] = append(g.out[from], edge{to: to})
	}
	e := &g.out[from][i]
	if slot := keySlot(k); slot >= 0 && e.kinds&k == 0 {
		e.keys[slot] = key
	}
	e.kinds |= k
}

// seal sorts every node's edges by target, so that searches visit them in one order
// whatever order the history was analysed in.
func (g *graph) seal() {
	g.pos = nil
	for _, es := range g.out {
		slices.SortFunc(es, func(a, b edge) int { return a.to - b.to })
	}
}

// sccs returns the strongly connected components with more than one transaction (the only
// ones that hold cycles, as there are no self-edges), each sorted, in order of their
// smallest member.
func (g *graph) sccs() [][]int {
	succ := make([][]int, len(g.out))
	for v, es := range g.out {
		for _, e := range es {
			succ[v] = append(succ[v], e.to)
		}
	}
	return sccsOf(succ)
}

// sccsOf is Tarjan's algorithm over successor lists: the components of more than one
// node, each sorted, in order of their smallest member.
func sccsOf(succ [][]int) [][]int {
	n := len(succ)
	t := tarjan{succ: succ, index: make([]int, n), low: make([]int, n), onStack: make([]bool, n)}
	for i := range t.index {
		t.index[i] = -1
	}
	for v := range n {
		if t.index[v] < 0 {
			t.visit(v)
		}
	}
	slices.SortFunc(t.out, func(a, b []int) int { return a[0] - b[0] })
	return t.out
}

type tarjan struct {
	succ       [][]int
	index, low []int
	onStack    []bool
	stack      []int
	next       int
	out        [][]int
}

func (t *tarjan) visit(v int) {
	t.index[v], t.low[v] = t.next, t.next
	t.next++
	t.stack = append(t.stack, v)
	t.onStack[v] = true
	for _, w := range t.succ[v] {
		switch {
		case t.index[w] < 0:
			t.visit(w)
			t.low[v] = min(t.low[v], t.low[w])
		case t.onStack[w]:
			t.low[v] = min(t.low[v], t.index[w])
		}
	}
	if t.low[v] != t.index[v] {
		return
	}
	var comp []int
	for {
		w := t.stack[len(t.stack)-1]
		t.stack = t.stack[:len(t.stack)-1]
		t.onStack[w] = false
		comp = append(comp, w)
		if w == v {
			break
		}
	}
	if len(comp) > 1 {
		slices.Sort(comp)
		t.out = append(t.out, comp)
	}
}
