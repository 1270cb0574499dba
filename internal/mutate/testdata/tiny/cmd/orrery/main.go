// Command orrery is a stand-in for the real one in the mutation runner's test: its
// "sim sweep" passes on workload w1 and checks calc.Clamp on workload w2, failing seed 3.
// A passing sweep writes its --json summary, whose per-seed message counts come from
// calc.Positive: a mutant that makes Positive count more costs more on every seed.
package main

import (
	"encoding/json"
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
	for i, a := range os.Args {
		if a == "--json" && i+1 < len(os.Args) {
			writeSummary(os.Args[i+1])
		}
	}
	fmt.Println("seeds run: 20  failures: 0")
}

type cost struct {
	Seed     int `json:"seed"`
	Messages int `json:"messages"`
}

func writeSummary(path string) {
	var costs []cost
	for s := 1; s <= 20; s++ {
		costs = append(costs, cost{Seed: s, Messages: 10 + calc.Positive([]int{s%3 - 1, 0, s})})
	}
	b, err := json.Marshal(map[string]any{"version": 1, "setup": []string{}, "planned": "1-20", "seeds": "1-20", "runs": 20, "costs": costs})
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
