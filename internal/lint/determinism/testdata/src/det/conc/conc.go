package conc

type worker struct {
	in chan int // want `channel type chan int is channel control flow`
}

type pipe chan string // want `channel type chan string`

func spawn() {
	go func() {}() // want `go statement starts a goroutine`
}

func wait(a, b <-chan int) int { // want `channel type <-chan int`
	select { // want `select statement waits on channels`
	case v := <-a: // want `channel receive is channel control flow`
		return v
	case v := <-b: // want `channel receive`
		return v
	}
}

func send(ch chan<- int) { // want `channel type chan<- int`
	ch <- 1 // want `channel send is channel control flow`
}

func recv(w worker) int {
	return <-w.in // want `channel receive`
}

func makeChan() {
	_ = make(chan int, 1) // want `make\(chan int\) creates a channel`
}

func makeNamed() pipe {
	return make(pipe) // want `make\(pipe\) creates a channel`
}

func nested() {
	var cc chan chan int // want `channel type chan chan int`
	_ = cc
}

func drain(w worker) (sum int) {
	for v := range w.in { // want `range over a channel`
		sum += v
	}
	return sum
}

func drainGeneric[C ~chan int](c C) { // want `channel type chan int`
	for range c { // want `range over a channel`
	}
}
