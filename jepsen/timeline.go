package jepsen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"

	"github.com/orrery/orrery/checker/history"
)

// timelineData is what timeline.html draws: ops as [process, f, key, call, return
// (-1: never), outcome, input, output], times in nanoseconds.
type timelineData struct {
	Title  string        `json:"title"`
	End    int64         `json:"end"`
	Ops    [][]any       `json:"ops"`
	Faults []FaultWindow `json:"faults"`
}

// timelineHTML renders a self-contained page: one row per process, one bar per
// operation from invoke to completion coloured by outcome, fault windows shaded.
func timelineHTML(events []history.Event, windows []FaultWindow, title string) ([]byte, error) {
	ops, err := history.Pair(events)
	if err != nil {
		return nil, err
	}
	d := timelineData{Title: title, Ops: make([][]any, 0, len(ops)), Faults: windows}
	if d.Faults == nil {
		d.Faults = []FaultWindow{}
	}
	if n := len(events); n > 0 {
		d.End = events[n-1].Time
	}
	for _, w := range windows {
		d.End = max(d.End, w.End)
	}
	for _, op := range ops {
		d.Ops = append(d.Ops, []any{op.Process, op.F, op.Key, op.Call, op.Return, string(op.Outcome), short(op.Input), short(op.Output)})
	}
	data, err := json.Marshal(d) // escapes <, > and &: safe inside a script element
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = timelineTmpl.Execute(&b, map[string]any{
		"Title": title,
		"Guard": template.JS(fmt.Sprintf(renderGuard, "document.querySelectorAll('.op').length === DATA.ops.length")),
		"Data":  template.JS(data),
	})
	return b.Bytes(), err
}

// short renders a value for a tooltip, cut to a readable length.
func short(v history.Value) string {
	s := v.String()
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

var timelineTmpl = template.Must(template.New("timeline").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<script>{{.Guard}}</script>
<style>
body { font: 12px sans-serif; margin: 16px; color: #222; }
h1 { font-size: 16px; margin: 0 0 8px; }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: middle; }
#chart { position: relative; margin-top: 12px; }
.row { position: relative; height: 14px; border-bottom: 1px solid #f2f2f2; }
.label { position: absolute; left: 0; width: 70px; text-align: right; color: #666; font-size: 10px; line-height: 14px; }
.lane { position: absolute; left: 80px; right: 0; top: 0; bottom: 0; }
.op { position: absolute; top: 2px; height: 10px; min-width: 2px; border-radius: 2px; opacity: 0.85; }
.op:hover { opacity: 1; outline: 1px solid #000; }
.ok { background: #3a9a3a; } .fail { background: #d98c1f; } .info { background: #c0392b; }
.fault { position: absolute; top: 0; bottom: 0; background: rgba(150, 80, 200, 0.13); border-left: 1px solid rgba(150, 80, 200, 0.5); pointer-events: none; }
.fault b { position: absolute; top: -14px; left: 2px; font-weight: normal; color: #7a3fa0; white-space: nowrap; font-size: 10px; }
#axis { position: relative; height: 18px; margin-left: 80px; border-top: 1px solid #999; }
#axis span { position: absolute; top: 2px; font-size: 10px; color: #666; }
</style>
</head>
<body>
<h1 id="title"></h1>
<div class="legend"><span><i class="ok"></i>ok</span><span><i class="fail"></i>fail</span><span><i class="info"></i>info (indefinite)</span><span><i style="background: rgba(150, 80, 200, 0.3)"></i>fault window</span> <span id="counts"></span></div>
<div id="chart"></div>
<div id="axis"></div>
<div id="render-status" data-state="pending" style="display: none">pending</div>
<script type="application/json" id="data">{{.Data}}</script>
<script>
var DATA = JSON.parse(document.getElementById("data").textContent);
(function () {
  var end = Math.max(DATA.end, 1);
  var pct = function (t) { return (100 * t / end) + "%"; };
  document.getElementById("title").textContent = DATA.title;
  var rows = {}, procs = [];
  DATA.ops.forEach(function (o) { if (!(o[0] in rows)) { rows[o[0]] = []; procs.push(o[0]); } rows[o[0]].push(o); });
  procs.sort(function (a, b) { return a - b; });
  var chart = document.getElementById("chart");
  chart.style.minHeight = (procs.length * 15) + "px";
  procs.forEach(function (p) {
    var row = document.createElement("div"); row.className = "row";
    var label = document.createElement("div"); label.className = "label"; label.textContent = "process " + p;
    var lane = document.createElement("div"); lane.className = "lane";
    rows[p].forEach(function (o) {
      var ret = o[4] < 0 ? end : o[4];
      var bar = document.createElement("div");
      bar.className = "op " + o[5];
      bar.style.left = pct(o[3]);
      bar.style.width = pct(Math.max(ret - o[3], 0));
      bar.title = "process " + o[0] + ": " + o[1] + (o[2] ? " " + o[2] : "") + " " + o[6] + " -> " + o[7] +
        " (" + o[5] + ", " + ((ret - o[3]) / 1e6).toFixed(1) + " ms, at " + (o[3] / 1e9).toFixed(3) + " s)";
      lane.appendChild(bar);
    });
    row.appendChild(label); row.appendChild(lane); chart.appendChild(row);
  });
  DATA.faults.forEach(function (f) {
    var w = document.createElement("div"); w.className = "fault";
    w.style.left = "calc(80px + (100% - 80px) * " + (f.start_ns / end) + ")";
    w.style.width = "calc((100% - 80px) * " + (Math.max(f.end_ns - f.start_ns, 0) / end) + ")";
    w.title = f.nemesis + ": " + f.description + (f.error ? " (" + f.error + ")" : "");
    var b = document.createElement("b"); b.textContent = f.nemesis; w.appendChild(b);
    chart.appendChild(w);
  });
  var axis = document.getElementById("axis"), secs = end / 1e9;
  var step = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600].find(function (st) { return secs / st <= 12; }) || 3600;
  for (var s = 0; s <= secs; s += step) {
    var t = document.createElement("span"); t.style.left = pct(s * 1e9); t.textContent = s + "s"; axis.appendChild(t);
  }
  var n = { ok: 0, fail: 0, info: 0 };
  DATA.ops.forEach(function (o) { n[o[5]]++; });
  document.getElementById("counts").textContent = DATA.ops.length + " operations: " + n.ok + " ok, " + n.fail + " fail, " + n.info + " info; " + DATA.faults.length + " fault windows";
})();
</script>
</body>
</html>
`))
