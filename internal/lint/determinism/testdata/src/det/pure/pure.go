// Package pure is deterministic, so other deterministic packages may import it.
package pure

func Double(x int) int { return 2 * x }
