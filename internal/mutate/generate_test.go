package mutate

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const calcDir = "testdata/tiny/calc"

func calcMutants(t *testing.T) []Mutant {
	t.Helper()
	ms, err := Generate(calcDir)
	require.NoError(t, err)
	return ms
}

// Every mutant of the test package, by ID, with its change: each operator fires where it
// should, and nothing inside String(), panic(...), errors.New, fmt.Errorf or a trace call
// is touched, nor + on strings, nor the test file; an unsigned 0 is not moved to -1.
func TestGenerateCalc(t *testing.T) {
	want := []string{
		"calc.go:11:5:negate-cond  if v < lo -> if !(...)",
		"calc.go:11:7:boundary  < -> <=",
		"calc.go:11:7:negate-cmp  < -> >=",
		"calc.go:12:3:remove-stmt  remove return lo",
		"calc.go:14:5:negate-cond  if v > hi -> if !(...)",
		"calc.go:14:7:boundary  > -> >=",
		"calc.go:14:7:negate-cmp  > -> <=",
		"calc.go:15:3:remove-stmt  remove return hi",
		"calc.go:24:3:remove-stmt  remove total += x",
		"calc.go:24:9:arith  += -> -=",
		"calc.go:30:38:logical  && -> ||",
		"calc.go:36:3:remove-stmt  remove last = x",
		"calc.go:43:6:negate-cond  for v*by >= 100 -> for !(...)",
		"calc.go:43:7:arith  * -> /",
		"calc.go:43:11:boundary  >= -> >",
		"calc.go:43:11:negate-cmp  >= -> <",
		"calc.go:43:14:const+1  100 -> 101",
		"calc.go:43:14:const-1  100 -> 99",
		"calc.go:44:3:remove-stmt  remove v = v / 2",
		"calc.go:44:9:arith  / -> *",
		"calc.go:46:11:arith  - -> +",
		"calc.go:54:5:negate-cond  if v == 3 -> if !(...)",
		"calc.go:54:7:negate-cmp  == -> !=",
		"calc.go:54:10:const+1  3 -> 4",
		"calc.go:54:10:const-1  3 -> 2",
		"calc.go:58:5:negate-cond  if v != 0 -> if !(...)",
		"calc.go:58:7:negate-cmp  != -> ==",
		"calc.go:58:10:const+1  0 -> 1",
		"calc.go:58:10:const-1  0 -> -1",
		"calc.go:59:3:remove-stmt  remove return errors.New(\"nonzero\")",
		"calc.go:78:6:negate-cond  if x > 0 -> if !(...)",
		"calc.go:78:8:boundary  > -> >=",
		"calc.go:78:8:negate-cmp  > -> <=",
		"calc.go:78:10:const+1  0 -> 1",
		"calc.go:78:10:const-1  0 -> -1",
		"calc.go:79:4:remove-stmt  remove n++",
		"calc.go:86:36:negate-cmp  == -> !=",
		"calc.go:86:39:const+1  0 -> 1", // no const-1: u is unsigned
		"calc.go:94:11:arith  / -> *",   // nothing in or of the planted bug's branch
	}
	var got []string
	for _, m := range calcMutants(t) {
		got = append(got, m.ID+"  "+m.Change)
	}
	assert.Equal(t, want, got)
}

// The mutated source of each operator, as a line of the mutated file.
func TestApply(t *testing.T) {
	byID := map[string]Mutant{}
	for _, m := range calcMutants(t) {
		byID[m.ID] = m
	}
	src, err := os.ReadFile(filepath.Join(calcDir, "calc.go"))
	require.NoError(t, err)
	for _, tc := range []struct{ id, line string }{
		{"calc.go:11:7:boundary", "\tif v <= lo {"},
		{"calc.go:11:7:negate-cmp", "\tif v >= lo {"},
		{"calc.go:11:5:negate-cond", "\tif !(v < lo) {"},
		{"calc.go:12:3:remove-stmt", "\t\t"},
		{"calc.go:24:9:arith", "\t\ttotal -= x"},
		{"calc.go:30:38:logical", "func Both(a, b bool) bool { return a || b }"},
		{"calc.go:43:6:negate-cond", "\tfor !(v*by >= 100) {"},
		{"calc.go:43:7:arith", "\tfor v/by >= 100 {"},
		{"calc.go:43:14:const+1", "\tfor v*by >= 101 {"},
		{"calc.go:43:14:const-1", "\tfor v*by >= (99) {"},
		{"calc.go:46:11:arith", "\treturn v + by"},
		{"calc.go:79:4:remove-stmt", "\t\t\t"},
		{"calc.go:78:10:const-1", "\t\tif x > (-1) {"},
	} {
		m, ok := byID[tc.id]
		require.True(t, ok, tc.id)
		lines := strings.Split(string(m.Apply(src)), "\n")
		assert.Equal(t, tc.line, lines[m.Line-1], tc.id)
	}
	assert.Equal(t, string(src), string(mustRead(t, filepath.Join(calcDir, "calc.go"))), "Apply must not change its input")
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// The same source gives the same IDs, in the same order, every time; they are unique.
func TestIDsAreStable(t *testing.T) {
	a, b := calcMutants(t), calcMutants(t)
	require.Equal(t, len(a), len(b))
	seen := map[string]bool{}
	for i := range a {
		assert.Equal(t, a[i].ID, b[i].ID)
		assert.False(t, seen[a[i].ID], "duplicate ID %s", a[i].ID)
		seen[a[i].ID] = true
	}
}

// notCompiling are the mutants of the test package that do not build, and why: the
// generator does not type-check its output; the runner counts these as "not compiled".
var notCompiling = map[string]string{
	"calc.go:24:3:remove-stmt": "declared and not used: x",       // total += x
	"calc.go:36:3:remove-stmt": "declared and not used: x",       // last = x
	"calc.go:59:3:remove-stmt": `"errors" imported and not used`, // return errors.New(...)
}

// Every generated mutant compiles with go build -overlay but those listed in notCompiling,
// which fail for the reason given; the source file is untouched afterwards.
func TestMutantsCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every mutant")
	}
	orig := mustRead(t, filepath.Join(calcDir, "calc.go"))
	dir := t.TempDir()
	for _, m := range calcMutants(t) {
		mutated := filepath.Join(dir, "calc.go")
		require.NoError(t, os.WriteFile(mutated, m.Apply(orig), 0o644))
		ov, err := json.Marshal(map[string]map[string]string{"Replace": {m.File: mutated}})
		require.NoError(t, err)
		ovPath := filepath.Join(dir, "overlay.json")
		require.NoError(t, os.WriteFile(ovPath, ov, 0o644))
		cmd := exec.Command("go", "build", "-overlay", ovPath, "./calc")
		cmd.Dir = filepath.Dir(calcDir)
		out, err := cmd.CombinedOutput()
		if why, ok := notCompiling[m.ID]; ok {
			assert.Error(t, err, "%s should not compile", m.ID)
			assert.Contains(t, string(out), why, m.ID)
			continue
		}
		assert.NoError(t, err, "%s: %s", m.ID, out)
	}
	assert.Equal(t, orig, mustRead(t, filepath.Join(calcDir, "calc.go")))
}

func TestSample(t *testing.T) {
	ms := calcMutants(t)
	a, b := Sample(ms, 5, 7), Sample(ms, 5, 7)
	require.Len(t, a, 5)
	assert.Equal(t, a, b, "same seed, same sample")
	assert.NotEqual(t, a, Sample(ms, 5, 8), "another seed, another sample")
	for i := 1; i < len(a); i++ {
		assert.Less(t, indexOfID(ms, a[i-1].ID), indexOfID(ms, a[i].ID), "the sample keeps the order")
	}
	assert.Len(t, Sample(ms, 0, 7), len(ms))
	assert.Len(t, Sample(ms, 1000, 7), len(ms))
}

func indexOfID(ms []Mutant, id string) int {
	for i, m := range ms {
		if m.ID == id {
			return i
		}
	}
	return -1
}

func TestParseEquivalent(t *testing.T) {
	got, err := ParseEquivalent(strings.NewReader("# judged by hand\n\ncalc.go:1:2:arith  x*1 either way\nnode/raft/log.go:3:4:boundary same\n"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"calc.go:1:2:arith": "x*1 either way", "node/raft/log.go:3:4:boundary": "same"}, got)
	_, err = ParseEquivalent(strings.NewReader("calc.go:1:2:arith\n"))
	assert.ErrorContains(t, err, "line 1: calc.go:1:2:arith: no reason given")
	_, err = ParseEquivalent(strings.NewReader("\nnot-an-id because\n"))
	assert.ErrorContains(t, err, "line 2")
}
