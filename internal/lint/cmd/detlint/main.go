// Command detlint runs the determinism analyzer over Go packages and exits non-zero on any
// finding (3) or on a package that fails to load or type-check (1).
//
// From the repository root:
//
//	go run ./internal/lint/cmd/detlint ./...
//
// Only the packages listed in determinism.Deterministic are checked; the -packages, -exempt
// and -module flags override the built-in lists. Run with -help for every flag.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/orrery/orrery/internal/lint/determinism"
)

func main() { singlechecker.Main(determinism.Analyzer) }
