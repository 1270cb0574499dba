package pod

import (
	"fmt"
	"strconv"
	"strings"
)

// byteSuffixes are the units ParseBytes accepts; decimal (k, M, G) and binary (Ki, Mi, Gi)
// both exist in the wild, and appc follows Kubernetes in accepting both.
var byteSuffixes = []struct {
	suffix string
	mult   int64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"k", 1000},
}

// ParseBytes parses a memory quantity such as "32M", "256Mi", "1G" or "1048576".
// M and G are read as binary units, which is what a user typing --memory 32M means.
func ParseBytes(s string) (int64, error) {
	num, mult := s, int64(1)
	for _, u := range byteSuffixes {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v <= 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("pod: bad memory quantity %q (want a positive number with an optional K, M, G, Ki, Mi or Gi suffix)", s)
	}
	return v * mult, nil
}

// ParseMilliCPU parses a CPU quantity in cores ("1", "0.5") or millicores ("500m").
func ParseMilliCPU(s string) (int64, error) {
	bad := fmt.Errorf("pod: bad cpu quantity %q (want cores such as 1 or 0.5, or millicores such as 500m)", s)
	if m, ok := strings.CutSuffix(s, "m"); ok {
		v, err := strconv.ParseInt(m, 10, 64)
		if err != nil || v <= 0 || v > 1<<40 {
			return 0, bad
		}
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || f > 1<<30 {
		return 0, bad
	}
	if mc := int64(f*1000 + 0.5); mc > 0 {
		return mc, nil
	}
	return 0, bad
}
