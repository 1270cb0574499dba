package determinism

import (
	"go/ast"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"
)

// Config says which packages the analyzer checks.
type Config struct {
	// Packages are the patterns of deterministic packages (see Deterministic).
	Packages []string
	// Exempt are patterns removed from Packages (see Exempt).
	Exempt []string
	// Module is the import path prefix of the project: a deterministic package must not
	// import a package under it that is not itself deterministic.
	Module string
}

// DefaultConfig is the configuration of the Orrery module.
func DefaultConfig() Config {
	return Config{
		Packages: slices.Clone(Deterministic),
		Exempt:   slices.Clone(Exempt),
		Module:   Module,
	}
}

// Analyzer checks the packages listed in Deterministic. Its flags override the lists.
var Analyzer = New(DefaultConfig())

const analyzerDoc = `enforce the determinism contract in deterministic packages

Deterministic packages run inside a seeded simulator and must be pure state
machines: no wall clock, no goroutines or channels, no global randomness, no
OS access, no imports of non-deterministic project packages, and no map
iteration order that can reach output. Packages outside the list are not
checked. See the package documentation of
github.com/orrery/orrery/internal/lint/determinism for the safe forms.`

// New returns an analyzer named "determinism" that checks the packages cfg describes. The
// analyzer owns a copy of cfg that its flags (-packages, -exempt, -module) write to, so that
// tests can build analyzers for their own testdata without touching Analyzer.
func New(cfg Config) *analysis.Analyzer {
	c := &Config{Packages: slices.Clone(cfg.Packages), Exempt: slices.Clone(cfg.Exempt), Module: cfg.Module}
	a := &analysis.Analyzer{
		Name:     "determinism",
		Doc:      analyzerDoc,
		Requires: []*analysis.Analyzer{inspect.Analyzer},
		Run:      c.run,
	}
	a.Flags.Var((*patternList)(&c.Packages), "packages",
		"comma-separated patterns of deterministic packages (pkg/... = pkg and everything under it); replaces the built-in list")
	a.Flags.Var((*patternList)(&c.Exempt), "exempt",
		"comma-separated patterns of packages exempt from the contract; replaces the built-in list")
	a.Flags.StringVar(&c.Module, "module", c.Module,
		"import path of the project; deterministic packages may import only deterministic packages under it")
	return a
}

func (c *Config) matcher() matcher {
	return matcher{include: c.Packages, exempt: c.Exempt}
}

// run checks one package. Packages outside the list produce nothing, which is what lets
// detlint run over ./... of the whole module.
func (c *Config) run(pass *analysis.Pass) (any, error) {
	if !c.matcher().deterministic(pass.Pkg.Path()) {
		return nil, nil
	}
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	for fileCur := range ins.Root().Children() {
		file := fileCur.Node().(*ast.File)
		if skipFile(pass, file) {
			continue
		}
		w := &walker{pass: pass, cfg: c, directives: scanDirectives(pass, file)}
		w.checkImports(file)
		w.reportReasonless()
		w.walk(fileCur)
	}
	return nil, nil
}

// skipFile reports whether file is outside the contract. Tests are not part of a simulated
// world (they may well use goroutines and the clock to drive one), and generated code is not
// ours to change; this also skips the test main package that go test generates.
func skipFile(pass *analysis.Pass, file *ast.File) bool {
	name := pass.Fset.File(file.Pos()).Name()
	return strings.HasSuffix(name, "_test.go") || ast.IsGenerated(file)
}
