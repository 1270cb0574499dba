package jepsen

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// statusClient is a clientv3 client pinned to one node, for Status calls.
type statusClient struct{ cli *clientv3.Client }

func (s *statusClient) close() { s.cli.Close() }

func (c *nsCluster) statusClient(node string) (*statusClient, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errors.New("jepsen: cluster closed")
	}
	if sc := c.clients[node]; sc != nil {
		return sc, nil
	}
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{c.Endpoint(node)},
		DialTimeout: time.Second,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, err
	}
	if c.clients == nil {
		c.clients = map[string]*statusClient{}
	}
	sc := &statusClient{cli: cli}
	c.clients[node] = sc
	return sc, nil
}

type nodeStatus struct {
	node     string
	member   uint64
	leader   uint64
	err      error
	answered bool
}

// Leader asks every node for its Status and returns the node a majority of the nodes name
// as leader, provided that node answers and names itself.
func (c *nsCluster) Leader(ctx context.Context) (string, error) {
	sts := c.statuses(ctx)
	votes := map[uint64]int{}
	self := map[uint64]bool{}
	var errs []string
	for _, s := range sts {
		if !s.answered {
			errs = append(errs, fmt.Sprintf("%s: %v", s.node, s.err))
			continue
		}
		if s.leader != 0 {
			votes[s.leader]++
		}
		if s.leader == s.member {
			self[s.member] = true
		}
	}
	for id, v := range votes {
		if v > len(c.names)/2 && self[id] {
			c.mu.Lock()
			name := c.ids[id]
			c.mu.Unlock()
			if name != "" {
				return name, nil
			}
		}
	}
	sort.Strings(errs)
	return "", fmt.Errorf("jepsen: no agreed leader (votes %v; %s)", votes, strings.Join(errs, "; "))
}

func (c *nsCluster) statuses(ctx context.Context) []nodeStatus {
	sts := make([]nodeStatus, len(c.names))
	var wg sync.WaitGroup
	for i, node := range c.names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sts[i] = c.status(ctx, node)
		}()
	}
	wg.Wait()
	return sts
}

func (c *nsCluster) status(ctx context.Context, node string) nodeStatus {
	s := nodeStatus{node: node}
	sc, err := c.statusClient(node)
	if err != nil {
		s.err = err
		return s
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	resp, err := sc.cli.Status(ctx, c.Endpoint(node))
	if err != nil {
		s.err = err
		return s
	}
	s.answered, s.member, s.leader = true, resp.Header.MemberId, resp.Leader
	c.mu.Lock()
	c.ids[s.member] = node
	c.mu.Unlock()
	return s
}
