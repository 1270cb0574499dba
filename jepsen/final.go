package jepsen

import (
	"context"
	"fmt"
	"math/rand"
	"time"
)

// finalOps runs fn as a fresh client of every node until it reports success or ctx ends,
// pausing between attempts. fn may record any number of operations; it reports false to
// be called again (e.g. its read failed) and may keep its progress between calls.
func finalOps(ctx context.Context, e *env, fn func(context.Context, *client) bool) error {
	cli, err := dial(e.endpoints)
	if err != nil {
		return fmt.Errorf("final operations: %w", err)
	}
	defer cli.Close()
	c := &client{env: e, cli: cli, process: e.newProcess(), rng: rand.New(rand.NewSource(1))}
	for {
		if fn(ctx, c) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("final operations did not succeed: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
