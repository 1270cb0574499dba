package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
)

// killNemesis SIGKILLs nodes (one, the leader, a minority, a majority or all); Stop starts
// every node that is not running, on its data dir.
type killNemesis struct{}

func (*killNemesis) Name() string { return "kill" }

func (k *killNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	mode, nodes := targets(ctx, c, r)
	var errs []error
	for _, n := range nodes {
		errs = append(errs, c.Kill(n))
	}
	return fmt.Sprintf("kill %s %v", mode, nodes), errors.Join(errs...)
}

func (*killNemesis) Stop(ctx context.Context, c Cluster) error {
	var errs []error
	for _, n := range c.Nodes() {
		errs = append(errs, c.Start(n))
	}
	return errors.Join(errs...)
}

// pauseNemesis SIGSTOPs nodes chosen like kill's; Stop SIGCONTs every node.
type pauseNemesis struct{}

func (*pauseNemesis) Name() string { return "pause" }

func (*pauseNemesis) Start(ctx context.Context, c Cluster, r *rand.Rand) (string, error) {
	mode, nodes := targets(ctx, c, r)
	var errs []error
	for _, n := range nodes {
		errs = append(errs, c.Pause(n))
	}
	return fmt.Sprintf("pause %s %v", mode, nodes), errors.Join(errs...)
}

func (*pauseNemesis) Stop(ctx context.Context, c Cluster) error {
	var errs []error
	for _, n := range c.Nodes() {
		errs = append(errs, c.Resume(n))
	}
	return errors.Join(errs...)
}
