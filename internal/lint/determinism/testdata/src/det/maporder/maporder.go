package maporder

import (
	"iter"
	"maps"
	"slices"
	"strings"
)

func joined(m map[string]int) string {
	var b strings.Builder
	for k := range m { // want `range over a map visits entries in random order; sort the keys first`
		b.WriteString(k)
	}
	return b.String()
}

func rawKeys(m map[string]int) iter.Seq[string] {
	return maps.Keys(m) // want `maps\.Keys yields map entries in random order`
}

func rawValues(m map[string]int) []int {
	return slices.Collect(maps.Values(m)) // want `maps\.Values yields map entries in random order`
}

func all(m map[string]int) (n int) {
	for _, v := range maps.All(m) { // want `maps\.All yields map entries in random order`
		n = n*31 + v
	}
	return n
}

// A method value of maps.Keys escapes the sorted form too.
var keysOf = maps.Keys[map[string]int] // want `maps\.Keys yields`

type byName map[string]int

func named(m byName) (out []string) {
	for k, v := range m { // want `range over a map`
		out = append(out, k+string(rune(v)))
	}
	return out
}

func generic[M ~map[string]V, V any](m M) (out []string) {
	for k := range m { // want `range over a map`
		out = append(out, strings.ToUpper(k))
	}
	return out
}

func twoStatements(m map[string]int) (keys []string, n int) {
	for k := range m { // want `range over a map`
		keys = append(keys, k)
		n++
	}
	return keys, n
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }

func sortedValues(m map[string]int) []int { return slices.Sorted(maps.Values(m)) }

func collectKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type index struct{ values []int }

func (x *index) collectValues(m map[string]int) {
	for _, v := range m {
		x.values = append(x.values, v)
	}
	slices.Sort(x.values)
}

func count(m map[string]int) (n int) {
	for range m {
		n++
	}
	return n
}

func sum(m map[string]int) (total int) {
	//det:unordered addition is commutative
	for _, v := range m {
		total += v
	}
	return total
}

func clearAll(m map[string]int) {
	for k := range m { //det:unordered deleting every key leaves the same empty map
		delete(m, k)
	}
}

func invert(m map[string]int) map[int]string {
	out := make(map[int]string, len(m))
	//det:unordered building another map; values are unique
	for k, v := range maps.All(m) {
		out[v] = k
	}
	return out
}

func noReason(m map[string]int) {
	// want +1 `//det:unordered needs a reason saying why iteration order does not matter`
	//det:unordered
	for k := range m {
		delete(m, k)
	}
}

// Not a directive: a different word that starts the same way.
func otherWord(m map[string]int) {
	//det:unorderedness is not a word
	for k := range m { // want `range over a map`
		delete(m, k)
	}
}
