package determinism

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
	"golang.org/x/tools/go/types/typeutil"
)

// whyMapOrder lists the ways out of a map-order finding.
const whyMapOrder = "sort the keys first (slices.Sorted(maps.Keys(m))), collect them with keys = append(keys, k) " +
	"and sort, or mark a loop whose result does not depend on order with //det:unordered <reason>"

// checkMapRange flags a range loop over a map unless it is one of the safe forms.
func (w *walker) checkMapRange(r *ast.RangeStmt) {
	if bindsNothing(r) || w.isCollector(r) || w.directives.covers(w.line(r.Pos())) {
		return
	}
	w.report(r, catMapOrder, "range over a map visits entries in random order; %s", whyMapOrder)
}

// bindsNothing reports whether the loop is "for range m": it cannot observe the order, only
// the number of entries.
func bindsNothing(r *ast.RangeStmt) bool {
	return isBlank(r.Key) && isBlank(r.Value)
}

func isBlank(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return e == nil || ok && id.Name == "_"
}

// isCollector reports whether the loop body is exactly "s = append(s, k)" with k the key or
// the value of the loop: the loop only gathers, and the caller is expected to sort.
func (w *walker) isCollector(r *ast.RangeStmt) bool {
	if len(r.Body.List) != 1 {
		return false
	}
	as, ok := r.Body.List[0].(*ast.AssignStmt)
	if !ok || as.Tok != token.ASSIGN || len(as.Lhs) != 1 || len(as.Rhs) != 1 {
		return false
	}
	call, ok := as.Rhs[0].(*ast.CallExpr)
	if !ok || call.Ellipsis.IsValid() || len(call.Args) != 2 || !w.isBuiltin(call, "append") {
		return false
	}
	return sameRef(as.Lhs[0], call.Args[0]) && w.isLoopVar(r, call.Args[1])
}

func (w *walker) isBuiltin(call *ast.CallExpr, name string) bool {
	b, ok := typeutil.Callee(w.pass.TypesInfo, call).(*types.Builtin)
	return ok && b.Name() == name
}

// sameRef reports whether a and b are the same variable or field reference (s, or x.s):
// only such plain references are sure to denote the same slice on both sides.
func sameRef(a, b ast.Expr) bool {
	return isPlainRef(a) && isPlainRef(b) && types.ExprString(a) == types.ExprString(b)
}

func isPlainRef(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return true
	case *ast.SelectorExpr:
		return isPlainRef(e.X)
	}
	return false
}

// isLoopVar reports whether e is the key or the value variable of the loop.
func (w *walker) isLoopVar(r *ast.RangeStmt, e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	if !ok || id.Name == "_" {
		return false
	}
	obj := w.pass.TypesInfo.ObjectOf(id)
	for _, v := range []ast.Expr{r.Key, r.Value} {
		if vid, ok := v.(*ast.Ident); ok && obj != nil && w.pass.TypesInfo.ObjectOf(vid) == obj {
			return true
		}
	}
	return false
}

// mapIterators are the functions of package maps that yield entries in map order.
var mapIterators = []string{"Keys", "Values", "All"}

func isMapIterator(fn *types.Func) bool {
	return fn.Pkg().Path() == "maps" && slices.Contains(mapIterators, fn.Name())
}

// checkMapIterator flags a use of maps.Keys, maps.Values or maps.All (cur is at its name)
// unless the sequence goes straight into slices.Sorted.
func (w *walker) checkMapIterator(cur inspector.Cursor, at ast.Expr, fn *types.Func) {
	if w.isSortedArg(cur) || w.directives.covers(w.line(at.Pos())) {
		return
	}
	w.report(at, catMapOrder, "%s yields map entries in random order; %s", qualifiedName(fn), whyMapOrder)
}

// isSortedArg reports whether the function named at cur is called and its result passed
// directly to slices.Sorted, as in slices.Sorted(maps.Keys(m)).
func (w *walker) isSortedArg(cur inspector.Cursor) bool {
	if cur.ParentEdgeKind() == edge.SelectorExpr_Sel {
		cur = cur.Parent()
	}
	if cur.ParentEdgeKind() != edge.CallExpr_Fun {
		return false
	}
	call := cur.Parent()
	if call.ParentEdgeKind() != edge.CallExpr_Args {
		return false
	}
	outer, ok := typeutil.Callee(w.pass.TypesInfo, call.Parent().Node().(*ast.CallExpr)).(*types.Func)
	return ok && outer.Pkg() != nil && outer.Pkg().Path() == "slices" && outer.Name() == "Sorted"
}

func (w *walker) line(pos token.Pos) int {
	return w.pass.Fset.Position(pos).Line
}

// unorderedDirective marks a map loop whose result does not depend on iteration order.
const unorderedDirective = "//det:unordered"

// A directive is one //det:unordered comment.
type directive struct {
	comment *ast.Comment
	line    int
	reason  string
}

// directives are the //det:unordered comments of one file, in file order.
type directives []directive

// scanDirectives collects the //det:unordered comments of file.
func scanDirectives(pass *analysis.Pass, file *ast.File) directives {
	var ds directives
	for _, group := range file.Comments {
		for _, c := range group.List {
			rest, ok := strings.CutPrefix(c.Text, unorderedDirective)
			// "//det:unorderedly" is some other word, not the directive.
			if !ok || rest != "" && rest[0] != ' ' && rest[0] != '\t' {
				continue
			}
			ds = append(ds, directive{comment: c, line: pass.Fset.Position(c.Pos()).Line, reason: strings.TrimSpace(rest)})
		}
	}
	return ds
}

// covers reports whether a directive sits on line or on the line before it. A directive
// without a reason still covers its loop: it is reported on its own (reportReasonless),
// and one finding per mistake is enough.
func (ds directives) covers(line int) bool {
	return slices.ContainsFunc(ds, func(d directive) bool { return d.line == line || d.line == line-1 })
}

// reportReasonless flags directives that do not say why order does not matter: the reason
// is what a reviewer checks, and what keeps the directive from becoming a reflex.
func (w *walker) reportReasonless() {
	for _, d := range w.directives {
		if d.reason == "" {
			w.report(d.comment, catMapOrder, "%s needs a reason saying why iteration order does not matter", unorderedDirective)
		}
	}
}
