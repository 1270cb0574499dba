// Package calc is the mutation generator's and runner's test subject.
package calc

import (
	"errors"
	"fmt"
)

// Clamp limits v to [lo, hi]; the fake sweep (cmd/orrery) checks it.
func Clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// Sum adds xs; only the tests check it.
func Sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}

// Both is checked by nothing.
func Both(a, b bool) bool { return a && b }

// Last is xs's last element; removing its assignment leaves x unused: not compiled.
func Last(xs []int) int {
	var last int
	for _, x := range xs {
		last = x
	}
	return last
}

// Scale mixes arithmetic, a constant and a loop.
func Scale(v, by int) int {
	for v*by >= 100 {
		v = v / 2
	}
	return v - by
}

// Name concatenates strings: + on strings has no - to swap with.
func Name(a, b string) string { return a + b }

// Check guards a value; error construction, panics and tracing are left alone.
func Check(v int, trace func(string, ...any)) error {
	if v == 3 {
		panic(fmt.Sprintf("three: %d", v+1))
	}
	trace("check %d", v*2)
	if v != 0 {
		return errors.New("nonzero")
	}
	return fmt.Errorf("zero: %d", v-1)
}

// Sign is a Stringer; String methods only format and are skipped.
type Sign int

func (s Sign) String() string {
	if s > 0 {
		return "+"
	}
	return "-"
}

// Positive counts the positive values of xs.
func Positive(xs []int) int {
	n := 0
	for _, x := range xs {
		if x > 0 {
			n++
		}
	}
	return n
}

// Empty compares an unsigned value with 0: 0-1 would not compile, so there is no const-1.
func Empty(u uint) bool { return u == 0 }

// Halve halves v; with the planted bug switched on it takes one off instead. The bug's
// branch (a condition on a bool named ...Bug) gets no mutants.
func Halve(v int, halveBug bool) int {
	if halveBug && v > 1 {
		return v - 1
	}
	return v / 2
}

// halveSlowBug is what a planted bug calls instead of Halve: a function whose name ends in
// "Bug" runs only under its bug and gets no mutants.
func halveSlowBug(v int) int {
	for v > 1 {
		v -= 2
	}
	return v
}
