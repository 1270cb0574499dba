package sim

import "time"

// clock is a node's local clock: local = offset + (1+drift) * virtual. It only moves
// forward (jumps add to the offset), like the monotonic clock components use for timeouts
// and leases, but it runs fast or slow against the other nodes' clocks.
type clock struct {
	offset int64
	drift  float64
}

func (c clock) local(virtual int64) time.Duration {
	return time.Duration(c.offset + virtual + int64(float64(virtual)*c.drift))
}

// virtualDelay converts a local duration into the virtual time it takes on this clock.
func (c clock) virtualDelay(d time.Duration) int64 {
	v := int64(float64(d) / (1 + c.drift))
	if v < 0 {
		return 0
	}
	return v
}
