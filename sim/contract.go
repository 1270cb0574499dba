package sim

import "github.com/orrery/orrery/node/component"

// The component contract lives in node/component so that components need not import the
// simulator; these aliases let simulator code and framework users spell it sim.X.
type (
	NodeID        = component.NodeID
	Message       = component.Message
	Component     = component.Component
	Input         = component.Input
	Effect        = component.Effect
	Factory       = component.Factory
	Op            = component.Op
	Recovery      = component.Recovery
	CorruptRecord = component.CorruptRecord
	Start         = component.Start
	Receive       = component.Receive
	TimerFired    = component.TimerFired
	Synced        = component.Synced
	Invoke        = component.Invoke
	Cancel        = component.Cancel
	Send          = component.Send
	SetTimer      = component.SetTimer
	CancelTimer   = component.CancelTimer
	Append        = component.Append
	Remove        = component.Remove
	Sync          = component.Sync
	Complete      = component.Complete
	Halt          = component.Halt
	Observe       = component.Observe
	Notice        = component.Notice
	RoleChanged   = component.RoleChanged
	CrashPoint    = component.CrashPoint
	FaultPoint    = component.FaultPoint
	FaultFired    = component.FaultFired
	Probe         = component.Probe
	Points        = component.Points
)
