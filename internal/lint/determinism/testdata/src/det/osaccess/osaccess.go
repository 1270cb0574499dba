package osaccess

import (
	"fmt"
	"io"
	"io/ioutil" // want `importing "io/ioutil" reads and writes files`
	"log"       // want `importing "log" logs to stderr`
	"log/slog"
	"net"      // want `importing "net" opens sockets`
	"net/http" // want `importing "net/http" opens sockets`
	"net/netip"
	"os"          // want `importing "os" touches the OS \(files, env vars, processes\)`
	"os/exec"     // want `importing "os/exec" touches the OS`
	"plugin"      // want `importing "plugin" loads code from disk`
	"runtime"     // want `importing "runtime" exposes scheduler`
	"sync"        // want `importing "sync" signals shared-memory concurrency`
	"sync/atomic" // want `importing "sync/atomic" signals shared-memory concurrency`
	"syscall"     // want `importing "syscall" makes system calls`
	"unsafe"      // want `importing "unsafe" bypasses the type system`
)

var (
	_ = ioutil.ReadAll
	_ = log.Printf
	_ = net.Dial
	_ = http.Get
	_ = os.Getenv
	_ = exec.Command
	_ = plugin.Open
	_ = runtime.NumGoroutine
	_ sync.Mutex
	_ atomic.Int64
	_ = syscall.Getpid
	_ = unsafe.Sizeof(0)
)

func stdout() {
	fmt.Print("x")       // want `fmt\.Print writes to stdout`
	fmt.Printf("%d", 1)  // want `fmt\.Printf writes to stdout`
	fmt.Println("hello") // want `fmt\.Println writes to stdout; return the text as a value`
}

func defaultLogger() {
	slog.Info("x")           // want `slog\.Info uses the process-wide default logger; log through an injected \*slog\.Logger`
	slog.Default().Info("y") // want `slog\.Default uses the process-wide default logger`
	slog.SetDefault(nil)     // want `slog\.SetDefault uses the process-wide default logger`
}

// Formatting into values, writing to a writer the driver hands in and logging through an
// injected logger are all fine.
func fine(w io.Writer, l *slog.Logger, err error) error {
	s := fmt.Sprintf("%d", 1)
	fmt.Fprintf(w, "%s\n", s)
	l.Info("stepped", slog.String("s", s), slog.Int("n", 1))
	return fmt.Errorf("step: %w", err)
}

// net/netip is a pure value package: the overlay names subnets with it.
func subnet() netip.Prefix { return netip.MustParsePrefix("10.0.0.0/24") }
