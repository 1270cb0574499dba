// Package tools is a project package outside the contract (exempt in the tests, like a
// checker or a CLI helper would be), so deterministic packages must not import it.
package tools

func Quadruple(x int) int { return 4 * x }
