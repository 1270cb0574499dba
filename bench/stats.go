package bench

import (
	"math"
	"slices"
	"time"
)

// Percentiles returns the given quantiles (0 < q <= 1) of samples by the nearest-rank
// method; zeros if there are no samples. It sorts samples in place.
func Percentiles(samples []time.Duration, qs ...float64) []time.Duration {
	out := make([]time.Duration, len(qs))
	if len(samples) == 0 {
		return out
	}
	slices.Sort(samples)
	for i, q := range qs {
		rank := int(math.Ceil(q*float64(len(samples)))) - 1
		out[i] = samples[min(max(rank, 0), len(samples)-1)]
	}
	return out
}
