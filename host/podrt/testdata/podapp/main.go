// Command podapp is the app of the runtime's test images: one static binary with modes.
package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	if filepath.Base(os.Args[0]) == "true" {
		return
	}
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	switch os.Args[1] {
	case "info":
		info()
	case "alloc":
		alloc()
	case "serve":
		serve()
	case "dial":
		dial()
	case "sleep":
		time.Sleep(time.Hour)
	case "loopback":
		loopback()
	}
}

func info() {
	host, _ := os.Hostname()
	entries, _ := os.ReadDir("/proc")
	procs := 0
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			procs++
		}
	}
	_, marker := os.Stat("/image-marker")
	wd, _ := os.Getwd()
	fmt.Printf("pid=%d hostname=%s procs=%d marker=%v uid=%d gid=%d wd=%s env=%s\n",
		os.Getpid(), host, procs, marker == nil, os.Getuid(), os.Getgid(), wd, os.Getenv("MODE"))
	os.WriteFile("/written-by-pod", []byte("x"), 0o644)
	os.WriteFile("/image-marker", []byte("changed"), 0o644)
	code, _ := strconv.Atoi(os.Args[2])
	os.Exit(code)
}

func alloc() {
	mb, _ := strconv.Atoi(os.Args[2])
	var keep [][]byte
	for i := 0; i < mb; i++ {
		b := make([]byte, 1<<20)
		for j := range b {
			b[j] = byte(j)
		}
		keep = append(keep, b)
	}
	fmt.Println("allocated", len(keep))
}

func serve() {
	l, err := net.Listen("tcp", ":"+os.Args[2])
	if err != nil {
		fmt.Println(err)
		os.Exit(3)
	}
	l.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	c, err := l.Accept()
	if err != nil {
		fmt.Println(err)
		os.Exit(4)
	}
	c.Write([]byte("hi\n"))
	c.Close()
}

func dial() {
	c, err := net.DialTimeout("tcp", os.Args[2], 2*time.Second)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(3)
	}
	buf := make([]byte, 3)
	n, _ := c.Read(buf)
	fmt.Printf("got %q\n", buf[:n])
}

// loopback listens on 127.0.0.1 and dials itself: it exits 0 only when lo is up.
func loopback() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(3)
	}
	c, err := net.DialTimeout("tcp", l.Addr().String(), 2*time.Second)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(4)
	}
	c.Close()
	fmt.Println("loopback ok")
}
