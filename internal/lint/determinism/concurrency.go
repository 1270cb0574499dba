package determinism

import (
	"go/ast"
	"go/token"
	"go/types"

	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// whyDriven is what a deterministic component does instead of concurrency.
const whyDriven = "the driver calls in and output comes back as values (Ready-style)"

// checkReceive flags <-ch.
func (w *walker) checkReceive(e *ast.UnaryExpr) {
	if e.Op == token.ARROW {
		w.report(e, catConcurrency, "channel receive is channel control flow; %s", whyDriven)
	}
}

// checkMakeChan flags make(chan T), also when the channel type has a name of its own.
func (w *walker) checkMakeChan(call *ast.CallExpr) {
	if !w.isMakeChan(call) {
		return
	}
	w.report(call, catConcurrency, "make(%s) creates a channel; %s", types.ExprString(call.Args[0]), whyDriven)
}

func (w *walker) isMakeChan(call *ast.CallExpr) bool {
	b, ok := typeutil.Callee(w.pass.TypesInfo, call).(*types.Builtin)
	if !ok || b.Name() != "make" || len(call.Args) == 0 {
		return false
	}
	return anyCoreType(w.pass.TypesInfo.TypeOf(call.Args[0]), isChan)
}

// checkChanType flags channel types wherever they are written: variables, fields,
// parameters, type declarations. A channel nobody can declare cannot be used. It stays quiet
// where another finding already covers the same text: the argument of make(chan T), and the
// inner type of chan chan T.
func (w *walker) checkChanType(cur inspector.Cursor, t *ast.ChanType) {
	switch cur.ParentEdgeKind() {
	case edge.ChanType_Value:
		return
	case edge.CallExpr_Args:
		if w.isMakeChan(cur.Parent().Node().(*ast.CallExpr)) {
			return
		}
	}
	w.report(t, catConcurrency, "channel type %s is channel control flow; %s", types.ExprString(t), whyDriven)
}

// checkRange flags range loops over channels and over maps.
func (w *walker) checkRange(r *ast.RangeStmt) {
	t := w.pass.TypesInfo.TypeOf(r.X)
	switch {
	case anyCoreType(t, isChan):
		w.report(r, catConcurrency, "range over a channel is channel control flow; %s", whyDriven)
	case anyCoreType(t, isMap):
		w.checkMapRange(r)
	}
}

func isChan(t types.Type) bool {
	_, ok := t.(*types.Chan)
	return ok
}

func isMap(t types.Type) bool {
	_, ok := t.(*types.Map)
	return ok
}

// anyCoreType reports whether pred holds for the underlying type of t or, when t is a type
// parameter, for the underlying type of any type in its type set. A loop over a type
// parameter constrained by ~map[K]V iterates a map just as much as one over a map.
func anyCoreType(t types.Type, pred func(types.Type) bool) bool {
	if t == nil {
		return false
	}
	for _, u := range underlyings(t) {
		if pred(u) {
			return true
		}
	}
	return false
}

// underlyings returns the underlying types t can have: one for an ordinary type, the
// underlying types of its type set's terms for a type parameter or constraint.
func underlyings(t types.Type) []types.Type {
	switch t := types.Unalias(t).(type) {
	case *types.TypeParam:
		return underlyings(t.Constraint())
	case *types.Union:
		var out []types.Type
		for i := range t.Len() {
			out = append(out, underlyings(t.Term(i).Type())...)
		}
		return out
	}
	iface, ok := t.Underlying().(*types.Interface)
	if !ok {
		return []types.Type{t.Underlying()}
	}
	var out []types.Type
	for i := range iface.NumEmbeddeds() {
		out = append(out, underlyings(iface.EmbeddedType(i))...)
	}
	return out
}
