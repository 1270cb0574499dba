package determinism

import "slices"

// Categories group findings by the part of the contract they break. They show up in the
// checker's JSON output (-json), so that tools can filter by them.
const (
	catClock       = "clock"
	catConcurrency = "concurrency"
	catRandom      = "random"
	catOS          = "os"
	catImport      = "import"
	catMapOrder    = "maporder"
)

// A rule says why a construct is forbidden and what to do instead; the text follows the
// construct's name in the message ("time.Now" + " reads the wall clock; ...").
type rule struct {
	category string
	why      string
}

// Reasons shared by several rules.
const (
	whyReadClock = "reads the wall clock; take time from Tick() or a value passed in by the driver"
	whyTimer     = "arms a wall-clock timer; ask the driver for a timer effect and react to its firing"
	whyStdout    = "writes to stdout; return the text as a value (fmt.Sprintf, fmt.Errorf and fmt.Fprintf are fine)"
	whySlog      = "uses the process-wide default logger; log through an injected *slog.Logger"
	whyRandom    = "uses the global random source; draw from the seeded *rand.Rand passed in by the driver"
	whyOS        = "touches the OS (files, env vars, processes); ask the driver for an effect instead"
	whySyscall   = "makes system calls; ask the driver for an effect instead"
	whySockets   = "opens sockets; send messages as effects and let the transport deliver them"
	whyLog       = "logs to stderr through a process-wide logger; log through an injected *slog.Logger"
	whySync      = "signals shared-memory concurrency; a deterministic component has a single caller and needs no locks"
)

// forbiddenFuncs maps "<import path>.<func>" to the rule against using that package-level
// function, called or not (a method value f := time.Now is just as bad as a call).
var forbiddenFuncs = map[string]rule{
	"time.Now":                   {catClock, whyReadClock},
	"time.Since":                 {catClock, whyReadClock},
	"time.Until":                 {catClock, whyReadClock},
	"time.Sleep":                 {catClock, "blocks on the wall clock; ask the driver for a timer effect instead"},
	"time.After":                 {catClock, whyTimer},
	"time.AfterFunc":             {catClock, whyTimer},
	"time.Tick":                  {catClock, whyTimer},
	"time.NewTicker":             {catClock, whyTimer},
	"time.NewTimer":              {catClock, whyTimer},
	"context.WithTimeout":        {catClock, whyTimer},
	"context.WithTimeoutCause":   {catClock, whyTimer},
	"context.WithDeadline":       {catClock, whyTimer},
	"context.WithDeadlineCause":  {catClock, whyTimer},
	"fmt.Print":                  {catOS, whyStdout},
	"fmt.Printf":                 {catOS, whyStdout},
	"fmt.Println":                {catOS, whyStdout},
	"log/slog.Debug":             {catOS, whySlog},
	"log/slog.DebugContext":      {catOS, whySlog},
	"log/slog.Info":              {catOS, whySlog},
	"log/slog.InfoContext":       {catOS, whySlog},
	"log/slog.Warn":              {catOS, whySlog},
	"log/slog.WarnContext":       {catOS, whySlog},
	"log/slog.Error":             {catOS, whySlog},
	"log/slog.ErrorContext":      {catOS, whySlog},
	"log/slog.Log":               {catOS, whySlog},
	"log/slog.LogAttrs":          {catOS, whySlog},
	"log/slog.Default":           {catOS, whySlog},
	"log/slog.SetDefault":        {catOS, whySlog},
	"log/slog.SetLogLoggerLevel": {catOS, whySlog},
	"math/rand.Seed":             {catRandom, "reseeds the global random source; take a seeded *rand.Rand (math/rand/v2) from the driver"},
}

// globalRandom maps each random package to its constructors. Every other package-level
// function of these packages draws from a process-wide source that no seed controls.
var globalRandom = map[string][]string{
	"math/rand/v2": {"New", "NewPCG", "NewChaCha8", "NewZipf"},
	"math/rand":    {"New", "NewSource", "NewZipf"},
}

// funcRule returns the rule against the package-level function name of the package with
// import path pkg, if there is one.
func funcRule(pkg, name string) (rule, bool) {
	if r, ok := forbiddenFuncs[pkg+"."+name]; ok {
		return r, true
	}
	if ctors, ok := globalRandom[pkg]; ok && !slices.Contains(ctors, name) {
		return rule{catRandom, whyRandom}, true
	}
	return rule{}, false
}

// An importRule forbids importing the packages matched by pattern (see match).
type importRule struct {
	pattern string
	rule
}

// forbiddenImports lists packages a deterministic package must not import at all: their
// whole purpose is I/O, concurrency or unseeded randomness.
var forbiddenImports = []importRule{
	{"os/...", rule{catOS, whyOS}},
	{"io/ioutil", rule{catOS, "reads and writes files; ask the driver for a disk effect instead"}},
	{"syscall", rule{catOS, whySyscall}},
	{"golang.org/x/sys/...", rule{catOS, whySyscall}},
	{"net/...", rule{catOS, whySockets}},
	{"log", rule{catOS, whyLog}},
	{"log/syslog", rule{catOS, whyLog}},
	{"plugin", rule{catOS, "loads code from disk at run time"}},
	{"runtime/...", rule{catOS, "exposes scheduler, GC and goroutine state that differ from run to run"}},
	{"unsafe", rule{catOS, "bypasses the type system; memory layout and addresses differ from run to run"}},
	{"sync/...", rule{catConcurrency, whySync}},
	{"crypto/rand", rule{catRandom, "reads the OS entropy source; draw from the seeded *rand.Rand passed in by the driver"}},
	{"math/rand", rule{catRandom, "has a global random source; use math/rand/v2 with a *rand.Rand injected by the driver"}},
}

// allowedImports are exceptions to forbiddenImports: pure value packages that happen to live
// under a forbidden tree. net/netip is how the overlay names subnets without touching sockets.
var allowedImports = []string{"net/netip"}

// importRuleFor returns the rule against importing path, if there is one. It does not know
// about project packages; see checkImports.
func importRuleFor(path string) (rule, bool) {
	if slices.Contains(allowedImports, path) {
		return rule{}, false
	}
	for _, r := range forbiddenImports {
		if match(r.pattern, path) {
			return r.rule, true
		}
	}
	return rule{}, false
}
