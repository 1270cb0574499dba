package peer

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/orrery/orrery/host/driver"
	"github.com/orrery/orrery/host/tcp"
	c "github.com/orrery/orrery/node/component"
	"github.com/orrery/orrery/node/rsm"
)

// Join finds the identity of a member joining a running cluster: it runs rsm's Joiner on
// the host driver and asks the contacts' peer ports (tcp.Query, with tlsCfg) whenever the
// joiner sends its question, each ask on its own goroutine; the outcome goes back to the
// joiner as an rsm.Asked. The error is the joiner's reason for giving up.
func Join(cfg rsm.JoinConfig, tlsCfg *tls.Config, log *slog.Logger) (rsm.Identity, error) {
	ctx, cancel := context.WithCancel(context.Background()) // ends the asks still out
	defer cancel()
	joined := make(chan rsm.Identity, 1)
	start := time.Now()
	var drv *driver.Driver
	drv = driver.New(driver.Config{
		Component: rsm.NewJoiner(cfg),
		Clock:     func() time.Duration { return time.Since(start) },
		Send: func(to c.NodeID, msg c.Message) {
			q, err := rsm.EncodeMessage(msg)
			if err != nil || to < 1 || int(to) > len(cfg.Contacts) {
				log.Error("joiner: unsendable question", "to", to, "msg", msg, "err", err)
				return
			}
			addr := cfg.Contacts[to-1].Addr
			go func() {
				b, err := tcp.Query(ctx, addr, tlsCfg, q)
				in := rsm.Asked{From: to, Answer: b}
				if err != nil {
					in.Err = err.Error()
				}
				drv.Input(in)
			}()
		},
		Notice: func(n c.Notice) {
			if j, ok := n.(rsm.Joined); ok {
				joined <- j.Identity
			}
		},
		Logger: log,
	})
	drv.Start(c.Recovery{})
	select {
	case id := <-joined:
		drv.Stop()
		return id, nil
	case <-drv.Done():
		return rsm.Identity{}, drv.Err()
	}
}
