package history

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRecorder(t *testing.T) {
	var rec Recorder
	rec.Invoke(3, "put", "k1", Str("v5"), 1200)
	rec.Invoke(4, "get", "k1", Null(), 1300)
	rec.Complete(3, OK, Str("v5"), 2100)
	rec.Complete(4, OK, Str("v5"), 2200)
	rec.Invoke(5, "cas", "k1", List(Str("v5"), Str("v6")), 2300)
	rec.Complete(5, Info, List(Str("v5"), Str("v6")), 9000)

	got := rec.Events()
	assert.Equal(t, mustRead(t, example), got)

	got[0].Process = 99
	assert.Equal(t, 3, rec.Events()[0].Process, "Events returns a copy")
}

func TestRecorderPanicsOnMisuse(t *testing.T) {
	tests := []struct {
		name string
		run  func(r *Recorder)
		want string
	}{
		{"complete without invoke", func(r *Recorder) { r.Complete(1, OK, Null(), 1) },
			`history: Recorder.Complete(process 1, ok): process has no open operation`},
		{"complete with invoke type", func(r *Recorder) { r.Invoke(1, "get", "k", Null(), 1); r.Complete(1, Invoke, Null(), 1) },
			`history: Recorder.Complete(process 1): "invoke" is not a completion type`},
		{"invoke twice", func(r *Recorder) { r.Invoke(1, "get", "k", Null(), 1); r.Invoke(1, "get", "k", Null(), 2) },
			`history: Recorder: event 2: process 1 invokes "get" while its "get" from event 1 is open`},
		{"invoke after info", func(r *Recorder) {
			r.Invoke(1, "put", "k", Str("x"), 1)
			r.Complete(1, Info, Null(), 2)
			r.Invoke(1, "get", "k", Null(), 3)
		}, `history: Recorder: event 3: process 1 invokes again after its info at event 2`},
		{"time backwards", func(r *Recorder) { r.Invoke(1, "get", "k", Null(), 5); r.Complete(1, OK, Null(), 4) },
			`history: Recorder: event 2: time goes backwards: 4 after 5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec Recorder
			assert.PanicsWithValue(t, tt.want, func() { tt.run(&rec) })
		})
	}
}
