package pod

import (
	"encoding/json"
	"fmt"
)

// Isolator names of the resources Orrery enforces; other isolators are refused rather than
// ignored, because a limit silently not applied is worse than an image that does not run.
const (
	IsolatorMemory = "resource/memory"
	IsolatorCPU    = "resource/cpu"
)

// Isolator is one resource restriction of an app or a pod.
type Isolator struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

// resourceValue is the value of the resource/* isolators.
type resourceValue struct {
	Request string `json:"request,omitempty"`
	Limit   string `json:"limit,omitempty"`
}

// Limits are the resource limits a pod runs with. Zero means unlimited.
type Limits struct {
	MemoryBytes int64
	MilliCPU    int64
}

// String prints the limits for traces and tables.
func (l Limits) String() string {
	return fmt.Sprintf("mem=%d cpu=%dm", l.MemoryBytes, l.MilliCPU)
}

// MemoryIsolator and CPUIsolator build isolators for the given limits.
func MemoryIsolator(limit string) Isolator { return resourceIsolator(IsolatorMemory, limit) }

// CPUIsolator builds a resource/cpu isolator.
func CPUIsolator(limit string) Isolator { return resourceIsolator(IsolatorCPU, limit) }

func resourceIsolator(name, limit string) Isolator {
	v, _ := json.Marshal(resourceValue{Limit: limit}) // cannot fail: two strings
	return Isolator{Name: name, Value: v}
}

func checkIsolators(field string, isos []Isolator) error {
	_, err := LimitsOf(field, isos)
	return err
}

// LimitsOf reads the limits out of isolators; field names them in errors. A later
// isolator of the same kind overrides an earlier one, as appc's pod-level overrides do.
func LimitsOf(field string, isos []Isolator) (Limits, error) {
	var l Limits
	for i, iso := range isos {
		f := fmt.Sprintf("%s[%d]", field, i)
		var rv resourceValue
		if err := json.Unmarshal(iso.Value, &rv); err != nil && (iso.Name == IsolatorMemory || iso.Name == IsolatorCPU) {
			return l, fieldErr(f+".value", "want {\"limit\": ...}: %v", err)
		}
		var err error
		switch iso.Name {
		case IsolatorMemory:
			if rv.Limit != "" {
				l.MemoryBytes, err = ParseBytes(rv.Limit)
			}
		case IsolatorCPU:
			if rv.Limit != "" {
				l.MilliCPU, err = ParseMilliCPU(rv.Limit)
			}
		default:
			return l, fieldErr(f+".name", "isolator %q is not supported (supported: %s, %s)", iso.Name, IsolatorMemory, IsolatorCPU)
		}
		if err != nil {
			return l, fieldErr(f+".value.limit", "%v", err)
		}
	}
	return l, nil
}

// Override returns l with every non-zero limit of o applied on top.
func (l Limits) Override(o Limits) Limits {
	if o.MemoryBytes != 0 {
		l.MemoryBytes = o.MemoryBytes
	}
	if o.MilliCPU != 0 {
		l.MilliCPU = o.MilliCPU
	}
	return l
}
