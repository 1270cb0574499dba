package jepsen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/orrery/orrery/checker/history"
)

// Files in a results folder, besides logs/<node>.log.
const (
	HistoryFile       = "history.jsonl"
	SummaryFile       = "summary.json"
	VisualizationFile = "visualization.html" // porcupine's, for the register workload
	TimelineFile      = "timeline.html"
	LatencyFile       = "latency.svg"
	ThroughputFile    = "throughput.svg"
)

// writeResults writes the history, the pages and plots, and last the summary (which
// lists the files).
func writeResults(dir string, events []history.Event, windows []FaultWindow, rep verdictReport, sum *Summary) error {
	files := map[string]func() ([]byte, error){
		HistoryFile: func() ([]byte, error) {
			var b bytes.Buffer
			err := history.Write(&b, events)
			return b.Bytes(), err
		},
		TimelineFile:   func() ([]byte, error) { return timelineHTML(events, windows, sum.Workload+": "+sum.Verdict) },
		LatencyFile:    func() ([]byte, error) { return latencySVG(events, windows), nil },
		ThroughputFile: func() ([]byte, error) { return throughputSVG(events, windows), nil },
	}
	if rep.vis != nil {
		files[VisualizationFile] = func() ([]byte, error) {
			var b bytes.Buffer
			if err := rep.vis.WriteHTML(&b); err != nil {
				return nil, err
			}
			return guardHTML(b.Bytes()), nil
		}
	}
	for _, name := range []string{HistoryFile, TimelineFile, LatencyFile, ThroughputFile, VisualizationFile} {
		gen, ok := files[name]
		if !ok {
			continue
		}
		b, err := gen()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
		sum.Files = append(sum.Files, name)
	}
	if _, err := os.Stat(filepath.Join(dir, "logs")); err == nil {
		sum.Files = append(sum.Files, "logs/")
	}
	sum.Files = append(sum.Files, SummaryFile)
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, SummaryFile), append(b, '\n'), 0o644)
}

// renderGuard is the first script of every page: it records script errors and, once
// the page's own load handlers have run, marks the page with the outcome, for the
// headless-browser test (and for people: a failed page says so). check is a JavaScript
// expression that is true when the page drew what it should. The marker is the element
// #render-status (HTML) or the root's data-render attribute (SVG): "rendered", or
// "render-error: ...".
const renderGuard = `(function () {
  var errors = [];
  window.onerror = function (msg, src, line, col) { errors.push(msg + " (line " + line + ":" + col + ")"); };
  window.addEventListener("load", function () {
    setTimeout(function () {
      var state = "rendered";
      try { if (errors.length === 0 && !(%s)) { errors.push("nothing was drawn"); } }
      catch (e) { errors.push(String(e)); }
      if (errors.length > 0) { state = "render-error: " + errors.join("; "); }
      var root = document.documentElement;
      if (root.namespaceURI === "http://www.w3.org/2000/svg") { root.setAttribute("data-render", state); return; }
      var el = document.getElementById("render-status");
      if (!el) { el = document.createElement("div"); el.id = "render-status"; el.style.display = "none"; document.body.appendChild(el); }
      el.setAttribute("data-state", state.split(":")[0]);
      el.textContent = state;
    }, 0);
  });
})();`

// guardHTML puts the render guard at the top of a page made elsewhere (porcupine's).
func guardHTML(page []byte) []byte {
	script := "<script>" + fmt.Sprintf(renderGuard, "document.body.children.length > 0") + "</script>"
	s := string(page)
	if i := strings.Index(s, "<head>"); i >= 0 {
		i += len("<head>")
		return []byte(s[:i] + script + s[i:])
	}
	return []byte(script + s)
}
