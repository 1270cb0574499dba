package mutate

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"
)

// Operator names a kind of mutation; it is the last part of a mutant's ID.
type Operator string

// The operators.
const (
	OpArith       Operator = "arith"       // + <-> -, * <-> / (also += -=, *= /=)
	OpBoundary    Operator = "boundary"    // < <-> <=, > <-> >=
	OpNegateCmp   Operator = "negate-cmp"  // == <-> !=, < -> >=, <= -> >, > -> <=, >= -> <
	OpLogical     Operator = "logical"     // && <-> ||
	OpNegateCond  Operator = "negate-cond" // if c / for c -> !(c)
	OpRemoveStmt  Operator = "remove-stmt" // drop a call, assignment, ++/-- or an if-body's return
	OpConstPlus1  Operator = "const+1"     // an integer literal n compared with -> n+1
	OpConstMinus1 Operator = "const-1"     // ... -> n-1
)

// Mutant is one change to one file.
type Mutant struct {
	ID       string   `json:"id"`     // file.go:line:col:operator
	File     string   `json:"file"`   // absolute path of the original file
	Line     int      `json:"line"`   // of the mutated token in the original file
	Col      int      `json:"col"`    // byte column, from 1
	Operator Operator `json:"op"`     // what kind of change
	Change   string   `json:"change"` // human-readable: "< -> <=", "remove r.send(m)"

	start, end int    // byte range of the original file replaced
	repl       string // by this
}

// Apply returns src, the original file's contents, with the mutation applied.
func (m Mutant) Apply(src []byte) []byte {
	out := make([]byte, 0, len(src)+len(m.repl))
	out = append(out, src[:m.start]...)
	out = append(out, m.repl...)
	return append(out, src[m.end:]...)
}

// Generate enumerates the mutants of the Go package in dir (its non-test files), in a
// stable order: by file name, then position, then operator.
func Generate(dir string) ([]Mutant, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax | packages.NeedTypes | packages.NeedTypesInfo,
		Dir:  abs,
	}
	pkgs, err := packages.Load(cfg, ".")
	if err != nil {
		return nil, fmt.Errorf("mutate: load %s: %w", dir, err)
	}
	if len(pkgs) != 1 {
		return nil, fmt.Errorf("mutate: %s: want one package, got %d", dir, len(pkgs))
	}
	pkg := pkgs[0]
	if len(pkg.Errors) > 0 {
		return nil, fmt.Errorf("mutate: %s: %v", dir, pkg.Errors[0])
	}
	var out []Mutant
	for _, f := range pkg.Syntax {
		name := pkg.Fset.File(f.Pos()).Name()
		if strings.HasSuffix(name, "_test.go") || isGenerated(f) {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		g := &gen{fset: pkg.Fset, info: pkg.TypesInfo, src: src, file: name}
		g.file_(f)
		out = append(out, g.out...)
	}
	slices.SortStableFunc(out, func(a, b Mutant) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.start != b.start {
			return a.start - b.start
		}
		return strings.Compare(string(a.Operator), string(b.Operator))
	})
	return dedupIDs(out), nil
}

// dedupIDs suffixes #2, #3... to IDs that repeat (two mutations of one operator at one
// token, which the operators above never produce; kept as a guard for stable, unique IDs).
func dedupIDs(ms []Mutant) []Mutant {
	seen := map[string]int{}
	for i := range ms {
		seen[ms[i].ID]++
		if n := seen[ms[i].ID]; n > 1 {
			ms[i].ID += "#" + strconv.Itoa(n)
		}
	}
	return ms
}

func isGenerated(f *ast.File) bool {
	for _, cg := range f.Comments {
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, "// Code generated ") && strings.HasSuffix(c.Text, " DO NOT EDIT.") {
				return true
			}
		}
	}
	return false
}

// gen collects the mutants of one file.
type gen struct {
	fset *token.FileSet
	info *types.Info
	src  []byte
	file string
	out  []Mutant
}

// skippedFuncs are methods whose bodies only format text: mutating them cannot matter to a
// simulation's outcome. Functions whose name ends in "Bug" are skipped too: they are what a
// planted bug's branch calls (rsm's renumberBug), so no sweep without --bug runs them.
var skippedFuncs = map[string]bool{"String": true, "Error": true, "GoString": true, "Format": true}

func (g *gen) file_(f *ast.File) {
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil || (fd.Recv != nil && skippedFuncs[fd.Name.Name]) || strings.HasSuffix(fd.Name.Name, "Bug") {
			continue
		}
		ast.Inspect(fd.Body, g.visit)
	}
}

func (g *gen) visit(n ast.Node) bool {
	switch n := n.(type) {
	case *ast.CallExpr:
		return !g.ignoredCall(n)
	case *ast.BlockStmt:
		g.removals(n.List)
	case *ast.CaseClause:
		g.removals(n.Body)
	case *ast.CommClause:
		g.removals(n.Body)
	case *ast.IfStmt:
		if n.Else == nil && g.plantedOnly(n.Cond) {
			return false // a planted bug's branch: not product code
		}
		g.ifReturns(n.Body.List)
		g.negate("if", n.Cond)
	case *ast.ForStmt:
		if n.Cond != nil {
			g.negate("for", n.Cond)
		}
	case *ast.BinaryExpr:
		g.binary(n)
	case *ast.AssignStmt:
		g.assignOp(n)
	}
	return true
}

// plantedOnly reports whether cond holds only while a planted bug is switched on: a call
// of bugs.Set's On, a bool whose name ends in "Bug" (a bug switch read once, as kv's watch
// hub does), or a conjunction with one of those. Such a branch runs in no sweep without
// --bug, so its mutants could not change what a sweep sees; and mutating the condition
// only switches a planted bug on, a kill that measures nothing.
func (g *gen) plantedOnly(cond ast.Expr) bool {
	switch c := ast.Unparen(cond).(type) {
	case *ast.BinaryExpr:
		return c.Op == token.LAND && (g.plantedOnly(c.X) || g.plantedOnly(c.Y))
	case *ast.CallExpr:
		sel, ok := ast.Unparen(c.Fun).(*ast.SelectorExpr)
		if !ok || sel.Sel.Name != "On" {
			return false
		}
		fn, ok := g.info.Uses[sel.Sel].(*types.Func)
		return ok && fn.Pkg() != nil && fn.Pkg().Path() == bugsPkg
	case *ast.SelectorExpr:
		return strings.HasSuffix(c.Sel.Name, "Bug")
	case *ast.Ident:
		return strings.HasSuffix(c.Name, "Bug")
	}
	return false
}

// bugsPkg is the package of the planted-bug switches.
const bugsPkg = "github.com/orrery/orrery/node/bugs"

// ignoredCalls are callee names whose calls only format, log or trace.
var ignoredCalls = map[string]bool{
	"panic": true, "print": true, "println": true,
	"trace": true, "tracef": true, "Trace": true, "Tracef": true,
	"Logf": true, "Log": true, "Printf": true, "Println": true, "Print": true,
	"Debug": true, "Debugf": true, "Info": true, "Infof": true, "Warn": true, "Warnf": true,
	"Errorf": true, "Sprintf": true, "Sprint": true, "Fprintf": true,
}

// ignoredPkgs are packages whose functions only format, build errors or log.
var ignoredPkgs = map[string]bool{"fmt": true, "errors": true, "log": true, "log/slog": true}

// ignoredCall reports whether call (and everything inside it) is left alone: panics,
// error construction, formatting, logging and tracing.
func (g *gen) ignoredCall(call *ast.CallExpr) bool {
	var id *ast.Ident
	switch fn := ast.Unparen(call.Fun).(type) {
	case *ast.Ident:
		id = fn
	case *ast.SelectorExpr:
		id = fn.Sel
	default:
		return false
	}
	if ignoredCalls[id.Name] {
		return true
	}
	if obj, ok := g.info.Uses[id].(*types.Func); ok && obj.Pkg() != nil && ignoredPkgs[obj.Pkg().Path()] {
		return true
	}
	return false
}

// removals adds a remove-stmt mutant for each removable statement of a statement list:
// calls (other than ignored ones), assignments other than := and _ = x, and ++/--.
// Returns are removed only from if bodies (ifReturns).
func (g *gen) removals(list []ast.Stmt) {
	for _, s := range list {
		switch s := s.(type) {
		case *ast.ExprStmt:
			call, ok := ast.Unparen(s.X).(*ast.CallExpr)
			if !ok || g.ignoredCall(call) {
				continue
			}
		case *ast.AssignStmt:
			if s.Tok == token.DEFINE || allBlank(s.Lhs) {
				continue
			}
		case *ast.IncDecStmt:
		default:
			continue
		}
		g.remove(s)
	}
}

// ifReturns adds a remove-stmt mutant for each return statement of an if body.
func (g *gen) ifReturns(body []ast.Stmt) {
	for _, s := range body {
		if r, ok := s.(*ast.ReturnStmt); ok {
			g.remove(r)
		}
	}
}

func (g *gen) remove(s ast.Stmt) {
	g.add(s.Pos(), s.Pos(), s.End(), OpRemoveStmt, "", "remove "+short(g.snippet(s.Pos(), s.End())))
}

func allBlank(es []ast.Expr) bool {
	for _, e := range es {
		if id, ok := e.(*ast.Ident); !ok || id.Name != "_" {
			return false
		}
	}
	return true
}

// negate wraps the condition of an if or for (kw) in !(...).
func (g *gen) negate(kw string, cond ast.Expr) {
	text := g.snippet(cond.Pos(), cond.End())
	g.add(cond.Pos(), cond.Pos(), cond.End(), OpNegateCond, "!("+text+")", kw+" "+short(text)+" -> "+kw+" !(...)")
}

var (
	arithSwap    = map[token.Token]token.Token{token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO, token.QUO: token.MUL}
	assignSwap   = map[token.Token]token.Token{token.ADD_ASSIGN: token.SUB_ASSIGN, token.SUB_ASSIGN: token.ADD_ASSIGN, token.MUL_ASSIGN: token.QUO_ASSIGN, token.QUO_ASSIGN: token.MUL_ASSIGN}
	boundarySwap = map[token.Token]token.Token{token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR}
	negation     = map[token.Token]token.Token{token.EQL: token.NEQ, token.NEQ: token.EQL, token.LSS: token.GEQ, token.LEQ: token.GTR, token.GTR: token.LEQ, token.GEQ: token.LSS}
	logicalSwap  = map[token.Token]token.Token{token.LAND: token.LOR, token.LOR: token.LAND}
)

func (g *gen) binary(e *ast.BinaryExpr) {
	op := e.Op
	if to, ok := arithSwap[op]; ok && g.numeric(e.X) && !g.constant(e) {
		g.swapOp(e.OpPos, op, to, OpArith)
	}
	if to, ok := boundarySwap[op]; ok {
		g.swapOp(e.OpPos, op, to, OpBoundary)
	}
	if to, ok := negation[op]; ok {
		g.swapOp(e.OpPos, op, to, OpNegateCmp)
		g.constBoundary(e.X, e.Y)
		g.constBoundary(e.Y, e.X)
	}
	if to, ok := logicalSwap[op]; ok {
		g.swapOp(e.OpPos, op, to, OpLogical)
	}
}

func (g *gen) assignOp(s *ast.AssignStmt) {
	if to, ok := assignSwap[s.Tok]; ok && len(s.Lhs) == 1 && g.numeric(s.Lhs[0]) {
		g.swapOp(s.TokPos, s.Tok, to, OpArith)
	}
}

func (g *gen) swapOp(pos token.Pos, from, to token.Token, op Operator) {
	g.add(pos, pos, pos+token.Pos(len(from.String())), op, to.String(), from.String()+" -> "+to.String())
}

// constBoundary mutates lit, an operand of a comparison with other, to lit+1 and lit-1.
func (g *gen) constBoundary(lit, other ast.Expr) {
	bl, ok := lit.(*ast.BasicLit)
	if !ok || bl.Kind != token.INT {
		return
	}
	n, err := strconv.ParseInt(bl.Value, 0, 64)
	if err != nil {
		return
	}
	end := bl.End()
	g.add(bl.Pos(), bl.Pos(), end, OpConstPlus1, strconv.FormatInt(n+1, 10), fmt.Sprintf("%s -> %d", bl.Value, n+1))
	if n > 0 || !g.unsigned(other) {
		g.add(bl.Pos(), bl.Pos(), end, OpConstMinus1, "("+strconv.FormatInt(n-1, 10)+")", fmt.Sprintf("%s -> %d", bl.Value, n-1))
	}
}

func (g *gen) basic(e ast.Expr) (*types.Basic, bool) {
	t := g.info.TypeOf(e)
	if t == nil {
		return nil, false
	}
	b, ok := t.Underlying().(*types.Basic)
	return b, ok
}

func (g *gen) numeric(e ast.Expr) bool {
	b, ok := g.basic(e)
	return ok && b.Info()&types.IsNumeric != 0
}

func (g *gen) unsigned(e ast.Expr) bool {
	b, ok := g.basic(e)
	return ok && b.Info()&types.IsUnsigned != 0
}

// constant reports whether e is a constant expression (1<<20 - 1): mutating it would
// often overflow and seldom be a realistic bug.
func (g *gen) constant(e ast.Expr) bool {
	tv, ok := g.info.Types[e]
	return ok && tv.Value != nil
}

// add records a mutant at pos replacing the bytes [from, to) with repl.
func (g *gen) add(pos, from, to token.Pos, op Operator, repl, change string) {
	p := g.fset.Position(pos)
	g.out = append(g.out, Mutant{
		ID:   fmt.Sprintf("%s:%d:%d:%s", filepath.Base(g.file), p.Line, p.Column, op),
		File: g.file, Line: p.Line, Col: p.Column, Operator: op, Change: change,
		start: g.fset.Position(from).Offset, end: g.fset.Position(to).Offset, repl: repl,
	})
}

func (g *gen) snippet(from, to token.Pos) string {
	return string(g.src[g.fset.Position(from).Offset:g.fset.Position(to).Offset])
}

// short is a one-line abbreviation of a snippet for the table.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 50 {
		s = s[:47] + "..."
	}
	return s
}
