package pod

import (
	"testing"
)

// FuzzParseImageManifest checks that the parser never panics and that whatever it accepts
// survives a round trip through Marshal.
func FuzzParseImageManifest(f *testing.F) {
	f.Add([]byte(goodManifest))
	f.Add([]byte(`{"acKind":"ImageManifest","acVersion":"0.8.11","name":"a","app":{"exec":["/a"],"user":"0","group":"0"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseImageManifest(data)
		if err != nil {
			return
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("accepted manifest does not marshal: %v", err)
		}
		if _, err := ParseImageManifest(out); err != nil {
			t.Fatalf("round trip refused: %v\n%s", err, out)
		}
	})
}
