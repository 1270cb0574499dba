package pod

import "github.com/orrery/orrery/node/component"

// flush turns the effects queued by one input into output. Appends go out at once;
// everything else waits for a Sync that covers them. With nothing to persist and no sync in
// flight, effects leave directly: they depend on no new state.
func (m *Manager) flush() []component.Effect {
	var out, later []component.Effect
	for _, e := range m.held {
		if _, ok := e.(component.Append); ok {
			out = append(out, e)
		} else {
			later = append(later, e)
		}
	}
	m.held = nil
	if !m.dirty && len(m.syncing) == 0 {
		return append(out, later...)
	}
	if !m.dirty {
		// A sync is in flight and this batch wrote nothing: ride on the newest one, so
		// answers keep their order behind the writes they may depend on.
		last := &m.syncing[len(m.syncing)-1]
		last.effs = append(last.effs, later...)
		return out
	}
	m.dirty = false
	m.nextSync++
	m.syncing = append(m.syncing, heldBatch{id: m.nextSync, effs: later})
	return append(out, component.Sync{ID: m.nextSync})
}

// release returns the effects held behind every sync up to and including id.
func (m *Manager) release(id uint64) []component.Effect {
	var out []component.Effect
	for len(m.syncing) > 0 && m.syncing[0].id <= id {
		out = append(out, m.syncing[0].effs...)
		m.syncing = m.syncing[1:]
	}
	return out
}
