//go:build tools

// Package deps pins modules that later code imports.
package deps

import (
	_ "github.com/anishathalye/porcupine"
	_ "github.com/cockroachdb/datadriven"
	_ "github.com/stretchr/testify/require"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/tools/go/analysis"
	_ "golang.org/x/tools/go/analysis/analysistest"
	_ "golang.org/x/tools/go/analysis/singlechecker"
)
