package bugs

import (
	"fmt"
	"slices"
	"strings"
)

// Bug describes one planted bug.
type Bug struct {
	// Name is "<component>.<what-goes-wrong>", e.g. "raft.vote-twice".
	Name string
	// Description says what the code does wrong when the bug is on, and which
	// property a checker should see broken.
	Description string
}

// Catalog is the list of bugs a component understands.
type Catalog []Bug

// Has reports whether the catalog declares name.
func (c Catalog) Has(name string) bool {
	return slices.ContainsFunc(c, func(b Bug) bool { return b.Name == name })
}

// Names returns the declared names, sorted.
func (c Catalog) Names() []string {
	out := make([]string, 0, len(c))
	for _, b := range c {
		out = append(out, b.Name)
	}
	slices.Sort(out)
	return out
}

// Set is a set of switched-on bugs. The zero value has every bug off. A Set is a small
// immutable value: copy it freely.
type Set struct {
	names []string // sorted, unique
}

// With returns a set holding names; empty names are ignored.
func With(names ...string) Set {
	s := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == "" })
	slices.Sort(s)
	return Set{names: slices.Compact(s)}
}

// On reports whether the named bug is switched on.
func (s Set) On(name string) bool {
	_, ok := slices.BinarySearch(s.names, name)
	return ok
}

// Empty reports whether no bug is on.
func (s Set) Empty() bool { return len(s.names) == 0 }

// Names returns the switched-on bugs, sorted. The caller must not modify the slice.
func (s Set) Names() []string { return s.names }

// String renders the set as a comma-separated list, "" when empty.
func (s Set) String() string { return strings.Join(s.names, ",") }

// Validate checks that every bug in s is declared by one of the catalogs, naming the first
// unknown one and listing the known names.
func (s Set) Validate(catalogs ...Catalog) error {
	var known Catalog
	for _, c := range catalogs {
		known = append(known, c...)
	}
	for _, n := range s.names {
		if !known.Has(n) {
			return fmt.Errorf("bugs: unknown bug %q (known: %s)", n, strings.Join(known.Names(), ", "))
		}
	}
	return nil
}
