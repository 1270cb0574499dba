package harness

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

func cmpSeed(a, b uint64) int { return cmp.Compare(a, b) }

func slicesSortFunc(s []Outcome, f func(a, b Outcome) int) { slices.SortFunc(s, f) }

// ParseSeeds reads a seed list such as "1-200", "7", or "1-10,42,100-105".
func ParseSeeds(s string) ([]uint64, error) {
	var out []uint64
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad seed %q in %q: want N or A-B", part, s)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("bad seed range %q in %q: want A-B with A <= B", part, s)
			}
		}
		if b-a >= 10_000_000 {
			return nil, fmt.Errorf("seed range %q is too large (at most 10,000,000 seeds)", part)
		}
		for x := a; ; x++ {
			out = append(out, x)
			if x == b {
				break
			}
		}
	}
	return out, nil
}
