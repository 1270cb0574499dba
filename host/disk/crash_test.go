package disk

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests here re-execute the test binary as a helper process (TestHelperProcess), which
// reads its role and data directory from these variables.
const (
	helperEnv = "ORRERY_DISK_HELPER"
	dirEnv    = "ORRERY_DISK_DIR"
	seedEnv   = "ORRERY_DISK_CRASH_SEED"
)

// TestCrashSafety kills a writer with SIGKILL at random moments, over and over on the same
// data directory, and checks after each kill that every record the writer reported synced
// is there, in order, with nothing corrupt. The writer also replaces a one-record "snap"
// file now and then, Remove and Append in the same Sync, which must never be seen half
// done. The seed fixes the kill times, not the scheduling, so a replay is only likely to
// fail the same way.
func TestCrashSafety(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(seedEnv); s != "" {
		var err error
		seed, err = strconv.ParseUint(s, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (replay: %s=%d go test -run TestCrashSafety ./host/disk)", seed, seedEnv, seed)
	r := rand.New(rand.NewPCG(seed, 0))
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	dir := t.TempDir()
	synced, reports := 0, 0
	for round := range rounds {
		delay := time.Duration(r.IntN(400)) * time.Millisecond
		n, ok := runAndKill(t, dir, delay)
		if ok {
			synced, reports = n, reports+1
		}
		d := open(t, dir)
		got := mustRecover(t, d)
		require.NoError(t, d.Close())
		require.Empty(t, got.Corrupt, "round %d (seed %d)", round, seed)
		log := got.Files["log"]
		require.GreaterOrEqual(t, len(log), synced, "round %d (seed %d): synced records lost", round, seed)
		for i, rec := range log {
			require.Equal(t, record(i), rec, "round %d (seed %d): record %d", round, seed, i)
		}
		if snap, ok := got.Files["snap"]; ok {
			require.Len(t, snap, 1, "round %d (seed %d): a replaced snap must hold one record", round, seed)
			n, err := strconv.Atoi(string(snap[0]))
			require.NoError(t, err)
			assert.LessOrEqual(t, n, len(log), "snap names records that are not in the log")
		}
		synced = len(log) // the next writer starts from what survived
	}
	require.Positive(t, reports, "no writer ever reported a sync (seed %d)", seed)
	t.Logf("%d rounds, %d with syncs reported, %d records at the end", rounds, reports, synced)
}

// runAndKill starts a writer on dir, kills it after delay, and returns the highest record
// count it reported synced, or false if it reported none.
func runAndKill(t *testing.T, dir string, delay time.Duration) (int, bool) {
	cmd, out, stderr := startHelper(t, "writer", dir)
	done := make(chan int)
	go func() {
		n := -1
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "synced "); ok {
				n, _ = strconv.Atoi(v)
			}
		}
		done <- n
	}()
	time.Sleep(delay)
	require.NoError(t, cmd.Process.Kill())
	n := <-done // the pipe ends when the writer does: every line it wrote is read
	requireKilled(t, cmd.Wait(), stderr)
	return n, n >= 0
}

func startHelper(t *testing.T, role, dir string) (*exec.Cmd, *bufio.Reader, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, dirEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	return cmd, bufio.NewReader(out), &stderr
}

// requireKilled fails unless the helper died of our SIGKILL: one that exited by itself
// hit an error, written to its stderr.
func requireKilled(t *testing.T, err error, stderr *bytes.Buffer) {
	t.Helper()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "helper: %v; stderr: %s", err, stderr)
	ws := ee.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "helper ended with %v; stderr: %s", err, stderr)
}

// TestSecondProcessIsRefused: a directory held by another process cannot be opened, the
// error names it and the holder's pid, and the lock dies with the holder.
func TestSecondProcessIsRefused(t *testing.T) {
	dir := t.TempDir()
	cmd, out, stderr := startHelper(t, "hold", dir)
	line, err := out.ReadString('\n')
	require.NoError(t, err, "helper: %s", stderr)
	require.Equal(t, "locked\n", line)

	_, err = Open(dir, Options{})
	require.ErrorIs(t, err, ErrInUse)
	assert.Equal(t, fmt.Sprintf("disk: data dir %s is in use by another process (pid %d)", dir, cmd.Process.Pid), err.Error())

	require.NoError(t, cmd.Process.Kill())
	requireKilled(t, cmd.Wait(), stderr)
	require.NoError(t, open(t, dir).Close())
}

// TestHelperProcess is not a test: it is the child the tests above start.
func TestHelperProcess(t *testing.T) {
	role := os.Getenv(helperEnv)
	if role == "" {
		t.Skip("helper process for TestCrashSafety and TestSecondProcessIsRefused")
	}
	d, err := Open(os.Getenv(dirEnv), Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	switch role {
	case "writer":
		err = write(d)
	case "hold":
		fmt.Println("locked")
		time.Sleep(time.Hour) // until killed; a bare select{} could trip the deadlock detector
	}
	fmt.Fprintln(os.Stderr, err)
	os.Exit(3)
}

// write appends batches of records to "log" until killed, printing the count after each
// successful Sync, and every eighth batch replaces "snap" with that count.
func write(d *Disk) error {
	rec, err := d.Recover()
	if err != nil {
		return err
	}
	n := len(rec.Files["log"])
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(n)))
	for batch := 1; ; batch++ {
		k := 1 + r.IntN(32)
		for i := n; i < n+k; i++ {
			d.Append("log", record(i))
		}
		n += k
		if batch%8 == 0 {
			d.Remove("snap")
			d.Append("snap", []byte(strconv.Itoa(n)))
		}
		if err := d.Sync(); err != nil {
			return err
		}
		// One write(2) per line, so a kill cannot leave half a report.
		fmt.Printf("synced %d\n", n)
	}
}

// record is the i-th record the writer appends: its number, then a filler whose length
// and bytes depend on it.
func record(i int) []byte {
	b := fmt.Appendf(nil, "%08d:", i)
	for j := range 32 + i%200 {
		b = append(b, byte('a'+(i+j)%26))
	}
	return b
}
