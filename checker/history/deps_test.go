package history

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allowedImports are the only packages this package may use: the
// deterministic simulator imports it, so it must not reach the OS, the clock,
// randomness or concurrency.
var allowedImports = map[string]bool{
	"bufio": true, "bytes": true, "encoding/json": true, "errors": true, "fmt": true,
	"io": true, "maps": true, "slices": true, "sort": true, "strconv": true, "strings": true,
}

// TestDeterministic fails when a non-test file imports something outside
// allowedImports, starts a goroutine, uses a channel or prints.
func TestDeterministic(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			assert.True(t, allowedImports[path], "%s imports %s", name, path)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt, *ast.ChanType, *ast.SelectStmt, *ast.SendStmt:
				t.Errorf("%s: concurrency at %s", name, fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "fmt" && strings.HasPrefix(n.Sel.Name, "Print") {
					t.Errorf("%s: fmt.%s at %s", name, n.Sel.Name, fset.Position(n.Pos()))
				}
			}
			return true
		})
	}
}
