package jepsen

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"slices"

	"github.com/orrery/orrery/checker/history"
)

// Plot geometry, in SVG units.
const (
	plotW, plotH                      = 1000.0, 420.0
	padL, padR, padT, padB            = 70.0, 150.0, 30.0, 45.0
	innerW, innerH                    = plotW - padL - padR, plotH - padT - padB
	okColor, failColor, infoColor     = "#3a9a3a", "#d98c1f", "#c0392b"
	faultFill, faultStroke, faultText = "rgba(150,80,200,0.13)", "rgba(150,80,200,0.5)", "#7a3fa0"
)

// palette colours operation names in the latency plot.
var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}

// svgPlot builds one plot: a frame with x in seconds since the history began.
type svgPlot struct {
	b   bytes.Buffer
	end float64 // seconds
}

func newPlot(title string, end float64) *svgPlot {
	p := &svgPlot{end: math.Max(end, 1)}
	fmt.Fprintf(&p.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="sans-serif" font-size="11">`+"\n",
		plotW, plotH, plotW, plotH)
	fmt.Fprintf(&p.b, "<script><![CDATA[\n%s\n]]></script>\n",
		fmt.Sprintf(renderGuard, `document.getElementById("plot").getBBox().width > 0`))
	fmt.Fprintf(&p.b, `<rect width="100%%" height="100%%" fill="white"/><text x="%g" y="18" font-size="14">%s</text>`+"\n", padL, html.EscapeString(title))
	p.b.WriteString(`<g id="plot">` + "\n")
	return p
}

func (p *svgPlot) x(sec float64) float64 { return padL + innerW*sec/p.end }

// faults shades the fault windows.
func (p *svgPlot) faults(windows []FaultWindow) {
	for _, w := range windows {
		x0, x1 := p.x(float64(w.Start)/1e9), p.x(float64(w.End)/1e9)
		fmt.Fprintf(&p.b, `<rect x="%.1f" y="%g" width="%.1f" height="%g" fill="%s" stroke="%s"><title>%s</title></rect>`+"\n",
			x0, padT, math.Max(x1-x0, 1), innerH, faultFill, faultStroke, html.EscapeString(w.Nemesis+": "+w.Description))
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%g" fill="%s" font-size="9">%s</text>`+"\n", x0+2, padT+10, faultText, html.EscapeString(w.Nemesis))
	}
}

// xAxis draws the time axis.
func (p *svgPlot) xAxis() {
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600} {
		step = s
		if p.end/s <= 12 {
			break
		}
	}
	y := padT + innerH
	fmt.Fprintf(&p.b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#333"/>`+"\n", padL, y, padL+innerW, y)
	for s := 0.0; s <= p.end; s += step {
		fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%g" x2="%.1f" y2="%g" stroke="#333"/><text x="%.1f" y="%g" text-anchor="middle">%gs</text>`+"\n",
			p.x(s), y, p.x(s), y+4, p.x(s), y+16, s)
	}
	fmt.Fprintf(&p.b, `<text x="%g" y="%g" text-anchor="middle">time (s)</text>`+"\n", padL+innerW/2, plotH-6)
}

// yTick draws a horizontal grid line with a label.
func (p *svgPlot) yTick(y float64, label string) {
	fmt.Fprintf(&p.b, `<line x1="%g" y1="%.1f" x2="%g" y2="%.1f" stroke="#ddd"/><text x="%g" y="%.1f" text-anchor="end">%s</text>`+"\n",
		padL, y, padL+innerW, y, padL-6, y+4, label)
}

func (p *svgPlot) legend(i int, mark, label string) {
	y := padT + 14*float64(i) + 6
	fmt.Fprintf(&p.b, `<g transform="translate(%g,%g)">%s<text x="14" y="4">%s</text></g>`+"\n", padL+innerW+14, y, mark, html.EscapeString(label))
}

func (p *svgPlot) bytes() []byte {
	p.b.WriteString("</g>\n</svg>\n")
	return p.b.Bytes()
}

func historyEnd(events []history.Event, windows []FaultWindow) float64 {
	var end int64
	if n := len(events); n > 0 {
		end = events[n-1].Time
	}
	for _, w := range windows {
		end = max(end, w.End)
	}
	return float64(end) / 1e9
}

// latencySVG plots every completed operation's latency (log scale) at its invocation
// time: colour by operation, shape by outcome (ok dot, fail ring, info cross).
func latencySVG(events []history.Event, windows []FaultWindow) []byte {
	p := newPlot("latency by operation (log scale)", historyEnd(events, windows))
	p.faults(windows)
	ops, _ := history.Pair(events) // the recorder only produces well-formed histories
	maxMs := 1.0
	var fs []string
	for _, op := range ops {
		if op.Return != history.NoReturn {
			maxMs = math.Max(maxMs, float64(op.Return-op.Call)/1e6)
		}
		if !slices.Contains(fs, op.F) {
			fs = append(fs, op.F)
		}
	}
	slices.Sort(fs)
	lo, hi := -1.0, math.Ceil(math.Log10(maxMs)) // 0.1 ms to the next power of ten
	y := func(ms float64) float64 {
		l := math.Log10(math.Max(ms, 0.1))
		return padT + innerH*(1-(l-lo)/(hi-lo))
	}
	for e := lo; e <= hi; e++ {
		p.yTick(y(math.Pow(10, e)), fmt.Sprintf("%g ms", math.Pow(10, e)))
	}
	for _, op := range ops {
		if op.Return == history.NoReturn {
			continue
		}
		ms := float64(op.Return-op.Call) / 1e6
		cx, cy := p.x(float64(op.Call)/1e9), y(ms)
		p.b.WriteString(marker(op.Outcome, palette[slices.Index(fs, op.F)%len(palette)], cx, cy))
	}
	p.xAxis()
	fmt.Fprintf(&p.b, `<text transform="translate(14,%g) rotate(-90)" text-anchor="middle">latency</text>`+"\n", padT+innerH/2)
	for i, f := range fs {
		p.legend(i, fmt.Sprintf(`<circle r="4" fill="%s"/>`, palette[i%len(palette)]), f)
	}
	n := len(fs)
	for i, t := range []history.Type{history.OK, history.Fail, history.Info} {
		p.legend(n+1+i, marker(t, "#444", 0, 0), string(t))
	}
	return p.bytes()
}

func marker(t history.Type, color string, x, y float64) string {
	switch t {
	case history.OK:
		return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="2" fill="%s" fill-opacity="0.7"/>`, x, y, color)
	case history.Fail:
		return fmt.Sprintf(`<circle cx="%.1f" cy="%.1f" r="3" fill="none" stroke="%s"/>`, x, y, color)
	}
	return fmt.Sprintf(`<path d="M%.1f %.1fl6 6m0 -6l-6 6" stroke="%s"/>`, x-3, y-3, color)
}

// throughputSVG plots completions per second by outcome.
func throughputSVG(events []history.Event, windows []FaultWindow) []byte {
	end := historyEnd(events, windows)
	p := newPlot("throughput: completions per second by outcome", end)
	p.faults(windows)
	buckets := int(math.Ceil(p.end))
	counts := map[history.Type][]int{history.OK: make([]int, buckets), history.Fail: make([]int, buckets), history.Info: make([]int, buckets)}
	peak := 1
	for _, e := range events {
		if e.Type == history.Invoke {
			continue
		}
		s := min(int(e.Time/1e9), buckets-1)
		counts[e.Type][s]++
		peak = max(peak, counts[e.Type][s])
	}
	top := niceCeil(float64(peak))
	y := func(v float64) float64 { return padT + innerH*(1-v/top) }
	for i := 0; i <= 4; i++ {
		v := top * float64(i) / 4
		p.yTick(y(v), fmt.Sprintf("%g", v))
	}
	colors := map[history.Type]string{history.OK: okColor, history.Fail: failColor, history.Info: infoColor}
	for i, t := range []history.Type{history.OK, history.Fail, history.Info} {
		var pts bytes.Buffer
		for s, n := range counts[t] {
			fmt.Fprintf(&pts, "%.1f,%.1f ", p.x(float64(s)+0.5), y(float64(n)))
		}
		fmt.Fprintf(&p.b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", pts.String(), colors[t])
		p.legend(i, fmt.Sprintf(`<rect x="-4" y="-2" width="10" height="4" fill="%s"/>`, colors[t]), string(t))
	}
	p.xAxis()
	fmt.Fprintf(&p.b, `<text transform="translate(14,%g) rotate(-90)" text-anchor="middle">operations / s</text>`+"\n", padT+innerH/2)
	return p.bytes()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*e >= v {
			return m * e
		}
	}
	return 10 * e
}
