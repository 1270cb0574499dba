// Package util is outside the project (module "det" in the tests), so importing it is not
// an import of a non-deterministic project package.
package util

func Triple(x int) int { return 3 * x }
