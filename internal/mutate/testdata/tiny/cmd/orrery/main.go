// Command orrery is a stand-in for the real one in the mutation runner's test: its
// "sim sweep" passes on workload w1 and checks calc.Clamp on workload w2, failing seed 3.
package main

import (
	"fmt"
	"os"

	"example.com/tiny/calc"
)

func main() {
	if len(os.Args) < 5 || os.Args[1] != "sim" || os.Args[2] != "sweep" || os.Args[3] != "--workload" {
		fmt.Fprintln(os.Stderr, "usage: orrery sim sweep --workload W ...")
		os.Exit(2)
	}
	if os.Args[4] == "w2" && calc.Clamp(5, 0, 10) != 5 {
		fmt.Println("FAIL seed 3 (safety): clamp")
		os.Exit(1)
	}
	fmt.Println("seeds run: 10  failures: 0")
}
