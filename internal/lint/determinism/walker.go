package determinism

import (
	"fmt"
	"go/ast"
	"go/types"
	"strconv"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ast/edge"
	"golang.org/x/tools/go/ast/inspector"
)

// walker checks one file of a deterministic package.
type walker struct {
	pass       *analysis.Pass
	cfg        *Config
	directives directives
}

// report emits a finding about node. Every message starts with "determinism: " so that it
// stands out among other tools' output in CI logs.
func (w *walker) report(node ast.Node, category, format string, args ...any) {
	w.pass.Report(analysis.Diagnostic{
		Pos:      node.Pos(),
		End:      node.End(),
		Category: category,
		Message:  "determinism: " + fmt.Sprintf(format, args...),
	})
}

// walkTypes are the nodes the checks look at; everything else is only descended into.
var walkTypes = []ast.Node{
	(*ast.Ident)(nil),
	(*ast.GoStmt)(nil),
	(*ast.SelectStmt)(nil),
	(*ast.SendStmt)(nil),
	(*ast.UnaryExpr)(nil),
	(*ast.CallExpr)(nil),
	(*ast.ChanType)(nil),
	(*ast.RangeStmt)(nil),
}

// walk runs the checks on every node of the file under fileCur.
func (w *walker) walk(fileCur inspector.Cursor) {
	for cur := range fileCur.Preorder(walkTypes...) {
		switch n := cur.Node().(type) {
		case *ast.Ident:
			w.checkIdent(cur, n)
		case *ast.GoStmt:
			w.report(n, catConcurrency, "go statement starts a goroutine; %s", whyDriven)
		case *ast.SelectStmt:
			w.report(n, catConcurrency, "select statement waits on channels; %s", whyDriven)
		case *ast.SendStmt:
			w.report(n, catConcurrency, "channel send is channel control flow; %s", whyDriven)
		case *ast.UnaryExpr:
			w.checkReceive(n)
		case *ast.CallExpr:
			w.checkMakeChan(n)
		case *ast.ChanType:
			w.checkChanType(cur, n)
		case *ast.RangeStmt:
			w.checkRange(n)
		}
	}
}

// checkIdent looks at every use of a package-level function, however it is spelled: through
// a renamed or dot import, called or taken as a value. Resolving the object rather than
// matching text is what makes the check hard to dodge by accident.
func (w *walker) checkIdent(cur inspector.Cursor, id *ast.Ident) {
	fn, ok := w.pass.TypesInfo.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Signature().Recv() != nil {
		return
	}
	at := nameExpr(cur, id)
	if isMapIterator(fn) {
		w.checkMapIterator(cur, at, fn)
		return
	}
	if r, ok := funcRule(fn.Pkg().Path(), fn.Name()); ok {
		w.report(at, r.category, "%s %s", qualifiedName(fn), r.why)
	}
}

// nameExpr returns the expression that names the object id refers to: the whole selector
// for pkg.Name, so that findings underline "time.Now" rather than "Now".
func nameExpr(cur inspector.Cursor, id *ast.Ident) ast.Expr {
	if cur.ParentEdgeKind() == edge.SelectorExpr_Sel {
		return cur.Parent().Node().(*ast.SelectorExpr)
	}
	return id
}

// qualifiedName spells fn as a reader knows it, by package name rather than by the local
// name of the import, so that "wall.Now" is reported as time.Now.
func qualifiedName(fn *types.Func) string {
	return fn.Pkg().Name() + "." + fn.Name()
}

// checkImports flags forbidden standard packages and non-deterministic project packages.
func (w *walker) checkImports(file *ast.File) {
	for _, spec := range file.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue // the type checker has already complained
		}
		if r, ok := importRuleFor(path); ok {
			w.report(spec, r.category, "importing %q %s", path, r.why)
		} else if w.nonDeterministicProject(path) {
			w.report(spec, catImport, "importing %q brings in a package outside the determinism contract; "+
				"a deterministic package may import only deterministic packages of %s", path, w.cfg.Module)
		}
	}
}

// nonDeterministicProject reports whether path is a package of the project that is not
// bound by the contract: whatever it does would leak into the simulated world unchecked.
func (w *walker) nonDeterministicProject(path string) bool {
	m := w.cfg.Module
	if m == "" || !match(m+"/...", path) {
		return false
	}
	return !w.cfg.matcher().deterministic(path)
}
