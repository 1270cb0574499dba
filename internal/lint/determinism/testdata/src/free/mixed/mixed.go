// Package mixed is not deterministic: the same constructs that are findings in det/...
// produce nothing here.
package mixed

import (
	"det/host"
	"fmt"
	"maps"
	"math/rand"
	"os"
	"sync"
	"time"
)

var mu sync.Mutex

func everything(m map[string]int) {
	ch := make(chan int, 1)
	go func() { ch <- rand.Intn(3) }()
	select {
	case v := <-ch:
		fmt.Println(v, os.Getenv("HOME"))
	case <-time.After(time.Second):
	}
	for k := range m {
		fmt.Println(k)
	}
	for k := range maps.Keys(m) {
		fmt.Println(k)
	}
	mu.Lock()
	defer mu.Unlock()
	_ = host.Now()
	time.Sleep(time.Millisecond)
}
