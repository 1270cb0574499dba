package component

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNodeImportsOnlyNode: the deterministic components under node/ know neither the
// simulator (sim/...), nor a history format (checker/...), nor the real environment
// (host/...): of this module they import only node/ packages. Test files may do more.
func TestNodeImportsOnlyNode(t *testing.T) {
	const module = "github.com/orrery/orrery/"
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) {
				assert.True(t, strings.HasPrefix(p, module+"node/"), "node/%s imports %s", filepath.ToSlash(path[3:]), p)
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, checked, 50, "the walk found node/'s files")
}
