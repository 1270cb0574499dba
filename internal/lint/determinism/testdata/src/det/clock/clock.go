package clock

import (
	"context"
	"time"
)

func now() time.Time { return time.Now() } // want `time\.Now reads the wall clock; take time from Tick\(\)`

func since(t time.Time) time.Duration { return time.Since(t) } // want `time\.Since reads the wall clock`

func until(t time.Time) time.Duration { return time.Until(t) } // want `time\.Until reads the wall clock`

func sleep() { time.Sleep(time.Second) } // want `time\.Sleep blocks on the wall clock`

func after() { _ = time.After(time.Second) } // want `time\.After arms a wall-clock timer`

func afterFunc() { time.AfterFunc(time.Second, func() {}) } // want `time\.AfterFunc arms a wall-clock timer`

func tick() { _ = time.Tick(time.Second) } // want `time\.Tick arms a wall-clock timer`

func ticker() *time.Ticker { return time.NewTicker(time.Second) } // want `time\.NewTicker arms a wall-clock timer`

func timer() *time.Timer { return time.NewTimer(time.Second) } // want `time\.NewTimer arms a wall-clock timer`

// A method value reads the clock as soon as anyone calls it.
var clockFunc = time.Now // want `time\.Now reads the wall clock`

func withTimeout(ctx context.Context) context.CancelFunc {
	_, cancel := context.WithTimeout(ctx, time.Second) // want `context\.WithTimeout arms a wall-clock timer`
	return cancel
}

// Time values and durations passed in by the driver are fine, and so is their arithmetic.
func deadline(now time.Time, timeout time.Duration) time.Time {
	return now.Add(2*timeout + 10*time.Millisecond)
}

func expired(now, start time.Time, ttl time.Duration) bool {
	return now.Sub(start).Round(time.Millisecond) >= ttl && !now.Before(start)
}

func epoch() time.Time { return time.Unix(0, 0).UTC() }
