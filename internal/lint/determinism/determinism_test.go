package determinism

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
)

// testAnalyzer returns an analyzer configured through its flags, as detlint users would,
// for the testdata tree: det/... is deterministic, det/host/... and det/tools are exempt, and "det" plays
// the part of the project module.
func testAnalyzer(t *testing.T) *analysis.Analyzer {
	t.Helper()
	a := New(DefaultConfig())
	require.NoError(t, a.Flags.Parse([]string{"-packages=det/...", "-exempt=det/host/...,det/tools", "-module=det"}))
	return a
}

// TestFindings checks every package under testdata/src/det against its // want comments:
// each forbidden construct is reported, the safe forms are not, the exempt det/host and the
// generated det/gen produce nothing.
func TestFindings(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), testAnalyzer(t), "det/...")
}

// TestNotDeterministic runs over free/mixed, which has one of nearly every forbidden
// construct but is not in the list: any finding fails the test.
func TestNotDeterministic(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), testAnalyzer(t), "free/...")
}

// TestTestFilesSkipped makes sure the quiet clock_test.go was really analysed (as part of
// the test variant of det/clock), so that TestFindings proves test files are skipped rather
// than merely not loaded.
func TestTestFilesSkipped(t *testing.T) {
	results := analysistest.Run(t, analysistest.TestData(), testAnalyzer(t), "det/clock")
	var analysed bool
	for _, r := range results {
		for _, f := range r.Pass.Files {
			analysed = analysed || filepath.Base(r.Pass.Fset.File(f.Pos()).Name()) == "clock_test.go"
		}
		for _, d := range r.Diagnostics {
			assert.NotContains(t, r.Pass.Fset.Position(d.Pos).Filename, "_test.go", d.Message)
		}
	}
	assert.True(t, analysed, "clock_test.go was not part of any analysed package")
}

func TestDefaultList(t *testing.T) {
	cfg := DefaultConfig()
	m := cfg.matcher()
	for path, want := range map[string]bool{
		"github.com/orrery/orrery/node":            true,
		"github.com/orrery/orrery/node/bugs":       true,
		"github.com/orrery/orrery/node/raft":       true,
		"github.com/orrery/orrery/node/kv/mvcc":    true,
		"github.com/orrery/orrery/sim":             true,
		"github.com/orrery/orrery/sim/workload/kv": true,
		"github.com/orrery/orrery/sim/podsim":      true,
		"github.com/orrery/orrery/checker/history": true,
		"github.com/orrery/orrery/checker/elle":    true, // sim/workload checks its histories with it
		"github.com/orrery/orrery/node/host":       true, // nothing under node/ is exempt
		"github.com/orrery/orrery/host/disk":       false,
		"github.com/orrery/orrery/nodes":           false,
		"github.com/orrery/orrery/sim/harness":     false,
		"github.com/orrery/orrery/checker":         false,
		"github.com/orrery/orrery/host/tcp":        false,
		"github.com/orrery/orrery/internal/lint":   false,
		"github.com/orrery/orrery/cmd/orrery":      false,
		"github.com/orrery/orrery":                 false,
		"example.com/other/node/raft":              false,
	} {
		assert.Equal(t, want, m.deterministic(path), path)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/b/c", false},
		{"a/b/...", "a/b", true},
		{"a/b/...", "a/b/c/d", true},
		{"a/b/...", "a/bc", false},
		{"a/b/...", "a", false},
	} {
		assert.Equal(t, tc.want, match(tc.pattern, tc.path), "%s vs %s", tc.pattern, tc.path)
	}
}

func TestImportRules(t *testing.T) {
	for path, forbidden := range map[string]bool{
		"os":                         true,
		"os/exec":                    true,
		"os/signal":                  true,
		"syscall":                    true,
		"golang.org/x/sys/unix":      true,
		"net":                        true,
		"net/http":                   true,
		"net/netip":                  false,
		"io/ioutil":                  true,
		"log":                        true,
		"log/slog":                   false,
		"runtime":                    true,
		"runtime/debug":              true,
		"unsafe":                     true,
		"plugin":                     true,
		"sync":                       true,
		"sync/atomic":                true,
		"crypto/rand":                true,
		"crypto/sha256":              false,
		"math/rand":                  true,
		"math/rand/v2":               false,
		"time":                       false,
		"fmt":                        false,
		"github.com/orrery/orrery/x": false, // project imports are checked separately
	} {
		_, got := importRuleFor(path)
		assert.Equal(t, forbidden, got, path)
	}
}

func TestFuncRules(t *testing.T) {
	for _, tc := range []struct {
		pkg, name string
		forbidden bool
	}{
		{"time", "Now", true},
		{"time", "Unix", false},
		{"time", "ParseDuration", false},
		{"math/rand/v2", "IntN", true},
		{"math/rand/v2", "N", true},
		{"math/rand/v2", "New", false},
		{"math/rand/v2", "NewPCG", false},
		{"math/rand", "Seed", true},
		{"math/rand", "NewSource", false},
		{"fmt", "Println", true},
		{"fmt", "Sprintf", false},
		{"log/slog", "Info", true},
		{"log/slog", "String", false},
		{"log/slog", "New", false},
	} {
		_, got := funcRule(tc.pkg, tc.name)
		assert.Equal(t, tc.forbidden, got, "%s.%s", tc.pkg, tc.name)
	}
}

// TestFlagsReplaceLists checks that -packages and -exempt replace the built-in lists rather
// than add to them, and that the flags of one analyzer do not leak into Analyzer.
func TestFlagsReplaceLists(t *testing.T) {
	a := New(DefaultConfig())
	require.NoError(t, a.Flags.Parse([]string{"-packages= a/... , b ,", "-exempt="}))
	assert.Equal(t, "a/...,b", a.Flags.Lookup("packages").Value.String())
	assert.Empty(t, a.Flags.Lookup("exempt").Value.String())
	assert.Equal(t, strings.Join(Deterministic, ","), Analyzer.Flags.Lookup("packages").Value.String())
	assert.Empty(t, Exempt)
}
