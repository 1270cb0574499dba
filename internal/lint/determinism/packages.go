package determinism

import (
	"strings"
)

// Module is the import path of the Orrery module. A deterministic package may import another
// package of this module only if that package is itself deterministic.
const Module = "github.com/orrery/orrery"

// Deterministic lists the packages bound by the determinism contract. A pattern ending in
// "/..." matches the package and everything under it; any other pattern matches one package.
// This is the only list: make lint, CI and the tests all read it from here.
var Deterministic = []string{
	"github.com/orrery/orrery/node/...",
	"github.com/orrery/orrery/sim",
	"github.com/orrery/orrery/sim/workload/...",
	"github.com/orrery/orrery/sim/podsim",
	"github.com/orrery/orrery/checker/history",
	"github.com/orrery/orrery/checker/elle",
}

// Exempt lists packages that match Deterministic but are not bound by the contract. It is
// empty: the real environment lives under host/, outside node/, and needs no exemption. The
// -exempt flag stays for trees laid out otherwise (the linter's own tests use it).
var Exempt []string

// matcher decides which packages are deterministic.
type matcher struct {
	include []string
	exempt  []string
}

// deterministic reports whether the package with import path path is bound by the contract.
func (m matcher) deterministic(path string) bool {
	return matchAny(m.include, path) && !matchAny(m.exempt, path)
}

// matchAny reports whether any of patterns matches path.
func matchAny(patterns []string, path string) bool {
	for _, p := range patterns {
		if match(p, path) {
			return true
		}
	}
	return false
}

// match reports whether pattern matches the import path path. "a/b/..." matches "a/b" and
// "a/b/c" but not "a/bc": the match is on whole path elements, so that a package named
// "node/hostile" is not mistaken for part of "node/host".
func match(pattern, path string) bool {
	dir, tree := strings.CutSuffix(pattern, "/...")
	if !tree {
		return pattern == path
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// patternList is a flag.Value holding comma-separated patterns. Setting it replaces the
// whole list, so a flag overrides the built-in list rather than adding to it.
type patternList []string

func (l *patternList) String() string {
	if l == nil {
		return ""
	}
	return strings.Join(*l, ",")
}

func (l *patternList) Set(s string) error {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	*l = out
	return nil
}
