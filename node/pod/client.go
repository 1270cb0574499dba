package pod

import (
	"time"

	"github.com/orrery/orrery/node/component"
)

// Client forwards operations to a Manager and resends them until answered. Every Manager
// operation is idempotent per pod name, so resending is safe.
type Client struct {
	manager component.NodeID
	retry   time.Duration
	op      *Request
}

// clientTimer is the Client's resend timer.
const clientTimer = 1

// NewClient returns a Client of the Manager on node manager.
func NewClient(manager component.NodeID, retry time.Duration) *Client {
	return &Client{manager: manager, retry: retry}
}

// Handle implements component.Component. An operation's Key is the pod name; a run's
// Value is the image ID.
func (c *Client) Handle(_ time.Duration, in component.Input) []component.Effect {
	switch in := in.(type) {
	case component.Invoke:
		img, _ := in.Op.Value.Str()
		c.op = &Request{OpID: in.Op.ID, F: in.Op.F, Pod: in.Op.Key, Image: ImageID(img)}
		return c.send()
	case component.TimerFired:
		if c.op != nil {
			return c.send()
		}
	case component.Cancel:
		if c.op != nil && c.op.OpID == in.OpID {
			c.op = nil
			return []component.Effect{component.CancelTimer{ID: clientTimer}}
		}
	case component.Receive:
		if r, ok := in.Msg.(Reply); ok && c.op != nil && r.OpID == c.op.OpID {
			c.op = nil
			return []component.Effect{
				component.CancelTimer{ID: clientTimer},
				component.Complete{OpID: r.OpID, Outcome: component.OK, Value: component.Str(r.Value)},
			}
		}
	}
	return nil
}

func (c *Client) send() []component.Effect {
	return []component.Effect{
		component.Send{To: c.manager, Msg: *c.op},
		component.SetTimer{ID: clientTimer, After: c.retry},
	}
}
