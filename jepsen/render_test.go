package jepsen

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/orrery/orrery/checker"
	"github.com/orrery/orrery/checker/history"
)

// syntheticRegister is a register history of a few clients over ten seconds, with
// fails and infos, and two fault windows.
func syntheticRegister() ([]history.Event, []FaultWindow) {
	r := rand.New(rand.NewSource(3))
	var rec history.Recorder
	now := int64(0)
	procs := []int{0, 1, 2, 3}
	next := 4
	val := map[string]string{}
	for now < 10e9 {
		i := r.Intn(len(procs))
		p := procs[i]
		key := fmt.Sprintf("r%d", r.Intn(2))
		now += int64(r.Intn(20e6)) + 1
		switch r.Intn(3) {
		case 0:
			rec.Invoke(p, "get", key, history.Null(), now)
			now += int64(r.Intn(5e6)) + 1
			v := history.Null()
			if s, ok := val[key]; ok {
				v = history.Str(s)
			}
			rec.Complete(p, history.OK, v, now)
		case 1:
			s := fmt.Sprint(r.Intn(5))
			rec.Invoke(p, "put", key, history.Str(s), now)
			now += int64(r.Intn(5e6)) + 1
			if r.Intn(15) == 0 { // indefinite, and it did take effect
				val[key] = s
				rec.Complete(p, history.Info, history.Str(s), now)
				procs[i], next = next, next+1
				continue
			}
			val[key] = s
			rec.Complete(p, history.OK, history.Str(s), now)
		default:
			from, to := fmt.Sprint(r.Intn(5)), fmt.Sprint(r.Intn(5))
			in := history.List(history.Str(from), history.Str(to))
			rec.Invoke(p, "cas", key, in, now)
			now += int64(r.Intn(5e6)) + 1
			if val[key] != from || val[key] == "" {
				rec.Complete(p, history.Fail, in, now)
				continue
			}
			val[key] = to
			rec.Complete(p, history.OK, in, now)
		}
	}
	windows := []FaultWindow{
		{Nemesis: "partition-halves", Description: "{n1,n2}|{n3}", Start: 2e9, End: 4e9},
		{Nemesis: "kill", Description: "kill n2 </script><b>", Start: 6e9, End: 8e9},
	}
	return rec.Events(), windows
}

// TestPagesRenderInChromium opens the timeline, the plots and porcupine's visualisation
// in headless Chromium and checks each marked itself rendered, with no script error.
func TestPagesRenderInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	events, windows := syntheticRegister()
	res, err := checker.Check("register", events, checker.Options{Annotations: annotations(windows)})
	require.NoError(t, err)
	require.Equal(t, checker.Linearizable, res.Verdict, res.Violation)
	dir := t.TempDir()
	sum := Summary{Workload: "register", Verdict: "linearizable <synthetic>"}
	require.NoError(t, writeResults(dir, events, windows, verdictReport{valid: Valid, vis: &res}, &sum))

	html := regexp.MustCompile(`id="render-status"[^>]*data-state="rendered"|data-state="rendered"[^>]*id="render-status"`)
	svg := regexp.MustCompile(`<svg[^>]*data-render="rendered"`)
	for _, tc := range []struct {
		file string
		ok   *regexp.Regexp
	}{
		{TimelineFile, html},
		{VisualizationFile, html},
		{LatencyFile, svg},
		{ThroughputFile, svg},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			dom := dumpDOM(t, chromium, filepath.Join(dir, tc.file))
			if m := renderError.FindString(dom); m != "" {
				t.Errorf("script errors in %s: %s", tc.file, m)
			}
			if !tc.ok.MatchString(dom) {
				t.Errorf("%s did not mark itself rendered; DOM begins: %.2000s", tc.file, dom)
			}
		})
	}
}

// renderError finds the guard's error marker (and the text after it).
var renderError = regexp.MustCompile(`(data-state|data-render)="render-error[^"]*"[^<]*(<[^<]*){0,2}`)

// A page whose script throws must be caught by the guard: the test above can fail.
func TestRenderGuardReportsErrors(t *testing.T) {
	chromium := chromiumPath(t)
	path := filepath.Join(t.TempDir(), "broken.html")
	page := "<!DOCTYPE html><html><head>\n<script>" + fmt.Sprintf(renderGuard, "true") +
		"</script></head><body><script>undefinedFunction();</script></body></html>"
	require.NoError(t, os.WriteFile(path, []byte(page), 0o644))
	dom := dumpDOM(t, chromium, path)
	assert.Contains(t, dom, `data-state="render-error"`)
	assert.Contains(t, dom, "undefinedFunction")
}

// chromiumPath finds Debian's chromium. Without it the test fails as root (make deps
// installs it, and CI runs as root) and is skipped otherwise.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Geteuid() != 0 {
		t.Skip("chromium is not installed and this is not root: run `make deps` (Debian package chromium) to run the page rendering test")
	}
	t.Fatal("chromium is not installed: run `make deps` (scripts/deps.sh installs Debian's chromium)")
	return ""
}

// dumpDOM loads a file in headless Chromium and returns the DOM after its scripts ran.
func dumpDOM(t *testing.T, chromium, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir="+t.TempDir(), "--virtual-time-budget=5000",
		"--dump-dom", "file://"+path)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "chromium: %s", stderr.String())
	return string(out)
}

// limitedBuffer keeps the first 8 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 8192 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }
