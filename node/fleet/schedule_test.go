package fleet

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func machines(ids ...string) []Machine {
	out := make([]Machine, len(ids))
	for i, id := range ids {
		out[i] = Machine{ID: id}
	}
	return out
}

func job(name string, c Constraints, at string) Job {
	return Job{Name: name, Fleet: c, Target: Launched, Machine: at}
}

// placements maps unit -> machine after applying the plan to the jobs.
func placements(jobs []Job, p Plan) map[string]string {
	out := map[string]string{}
	for _, j := range jobs {
		if j.Machine != "" {
			out[j.Name] = j.Machine
		}
	}
	for _, m := range p.Unschedule {
		delete(out, m.Unit)
	}
	for _, m := range p.Schedule {
		out[m.Unit] = m.Machine
	}
	return out
}

func TestScheduleLeastLoadedTiesToLowerID(t *testing.T) {
	ms := machines("m3", "m1", "m2")
	jobs := []Job{job("a.service", Constraints{}, "m1"), job("b.service", Constraints{}, ""), job("c.service", Constraints{}, ""), job("d.service", Constraints{}, "")}
	p := Schedule(ms, jobs, nil)
	assert.Empty(t, p.Unschedule)
	assert.Equal(t, []Move{
		{"b.service", "m2", "least loaded eligible machine"},
		{"c.service", "m3", "least loaded eligible machine"},
		{"d.service", "m1", "least loaded eligible machine"},
	}, p.Schedule)
}

func TestScheduleConstraints(t *testing.T) {
	ms := []Machine{
		{ID: "m1", Metadata: map[string]string{"region": "us-east", "disk": "hdd"}},
		{ID: "m2", Metadata: map[string]string{"region": "us-west", "disk": "ssd"}},
		{ID: "m3", Metadata: map[string]string{"region": "eu", "disk": "ssd"}, MilliCPU: 1000},
	}
	jobs := []Job{
		job("ssd-us.service", Constraints{Metadata: map[string][]string{"region": {"us-east", "us-west"}, "disk": {"ssd"}}}, ""),
		job("pinned.service", Constraints{MachineID: "m1"}, ""),
		// sorts before the unit it follows, and still lands with it
		job("a-follower.service", Constraints{MachineOf: []string{"pinned.service"}}, ""),
		job("web@1.service", Constraints{Conflicts: []string{"web@*.service"}}, ""),
		job("web@2.service", Constraints{Conflicts: []string{"web@*.service"}}, ""),
		job("web@3.service", Constraints{Conflicts: []string{"web@*.service"}}, ""),
		job("web@4.service", Constraints{Conflicts: []string{"web@*.service"}}, ""),
		job("big.service", Constraints{MilliCPU: 900}, ""),
		job("bigger.service", Constraints{MilliCPU: 200, MachineID: "m3"}, ""),
		job("huge.service", Constraints{MilliCPU: 900, MachineID: "m3"}, ""),
	}
	p := Schedule(ms, jobs, nil)
	at := placements(jobs, p)
	assert.Equal(t, "m2", at["ssd-us.service"])
	assert.Equal(t, "m1", at["pinned.service"])
	assert.Equal(t, "m1", at["a-follower.service"])
	webs := map[string]bool{}
	for i := 1; i <= 4; i++ {
		if m, ok := at[fmt.Sprintf("web@%d.service", i)]; ok {
			assert.False(t, webs[m], "two web instances on %s", m)
			webs[m] = true
		}
	}
	assert.Len(t, webs, 3, "three machines, three web instances")
	assert.Equal(t, "m1", at["big.service"], "all empty: the lowest ID")
	assert.Equal(t, "m3", at["bigger.service"])
	require.Len(t, p.Unschedulable, 2)
	assert.Equal(t, Move{Unit: "huge.service", Reason: "no machine fits: MachineID=m3 (m1, m2); X-Orrery-CPU=900m, 800m of 1000m free (m3)"}, p.Unschedulable[0])
	assert.Equal(t, Move{Unit: "web@4.service", Reason: "no machine fits: conflicts with web@3.service (m1); conflicts with web@1.service (m2); conflicts with web@2.service (m3)"}, p.Unschedulable[1])
}

func TestScheduleUnschedulesWhatMayNotStay(t *testing.T) {
	ms := machines("m1", "m2")
	jobs := []Job{
		job("gone.service", Constraints{}, "m9"),
		{Name: "off.service", Target: Inactive, Machine: "m1"},
		job("x-conflict.service", Constraints{Conflicts: []string{"a-*"}}, "m1"),
		job("a-first.service", Constraints{}, "m1"),
		job("leader.service", Constraints{MachineID: "m2"}, "m1"),
		job("b-follower.service", Constraints{MachineOf: []string{"leader.service"}}, "m1"),
	}
	p := Schedule(ms, jobs, nil)
	assert.Equal(t, []Move{
		{"b-follower.service", "m1", "MachineOf=leader.service (it left m1)"},
		{"gone.service", "m9", "machine is gone"},
		{"leader.service", "m1", "MachineID=m2"},
		{"off.service", "m1", "target state is inactive"},
		{"x-conflict.service", "m1", "conflicts with a-first.service"},
	}, p.Unschedule)
	at := placements(jobs, p)
	assert.Equal(t, map[string]string{"a-first.service": "m1", "b-follower.service": "m2", "gone.service": "m2", "leader.service": "m2", "x-conflict.service": "m2"}, at)
	assert.Empty(t, p.Unschedulable)
}

func TestScheduleGlobalsAndReplaces(t *testing.T) {
	ms := []Machine{{ID: "m1", Metadata: map[string]string{"role": "edge"}}, {ID: "m2"}}
	globals := []Job{job("proxy.service", Constraints{Global: true, Metadata: map[string][]string{"role": {"edge"}}, Conflicts: []string{"db.service"}}, "")}
	jobs := []Job{job("db.service", Constraints{}, ""), job("old.service", Constraints{}, "m2"), job("new.service", Constraints{Replaces: []string{"old.service"}, MachineID: "m2"}, "")}
	p := Schedule(ms, jobs, globals)
	at := placements(jobs, p)
	assert.Equal(t, "m2", at["db.service"], "db conflicts with the global proxy on m1")
	assert.Equal(t, "m2", at["new.service"])
	assert.Equal(t, "m1", at["old.service"], "the replaced unit moves away")
	assert.Equal(t, []Move{{"old.service", "m2", "replaced by new.service"}}, p.Unschedule)

	// The next pass keeps everything where it is.
	var next []Job
	for _, j := range jobs {
		j.Machine = at[j.Name]
		next = append(next, j)
	}
	again := Schedule(ms, next, globals)
	assert.Equal(t, Plan{}, again)
}

func TestScheduleNoMachines(t *testing.T) {
	p := Schedule(nil, []Job{job("a.service", Constraints{}, "")}, nil)
	assert.Equal(t, []Move{{Unit: "a.service", Reason: "no machine is up"}}, p.Unschedulable)
}

// The plan depends on the set of machines and jobs, not on the order they come in, and
// a second pass over its result changes nothing.
func TestScheduleIsOrderFreeAndStable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		ms, jobs, globals := randomCluster(r, 1+r.IntN(6), r.IntN(20))
		p := Schedule(ms, jobs, globals)
		r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		r.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
		require.Equal(t, p, Schedule(ms, jobs, globals), "round %d", round)
		at := placements(jobs, p)
		var next []Job
		for _, j := range jobs {
			j.Machine = at[j.Name]
			next = append(next, j)
		}
		again := Schedule(ms, next, globals)
		require.Empty(t, again.Unschedule, "round %d: a settled placement must stay", round)
		require.Empty(t, again.Schedule, "round %d", round)
	}
}

func randomCluster(r *rand.Rand, nm, nj int) ([]Machine, []Job, []Job) {
	var ms []Machine
	for i := range nm {
		ms = append(ms, Machine{ID: fmt.Sprintf("m%d", i), Metadata: map[string]string{"zone": fmt.Sprint(r.IntN(2))}, MilliCPU: int64(r.IntN(3)) * 1000})
	}
	var jobs []Job
	for i := range nj {
		c := Constraints{MilliCPU: int64(r.IntN(3)) * 300}
		switch r.IntN(5) {
		case 0:
			c.Conflicts = []string{fmt.Sprintf("u%d*", r.IntN(3))}
		case 1:
			c.Metadata = map[string][]string{"zone": {fmt.Sprint(r.IntN(2))}}
		case 2:
			if i > 0 {
				c.MachineOf = []string{fmt.Sprintf("u%d.service", r.IntN(i))}
			}
		}
		at := ""
		if r.IntN(2) == 0 {
			at = fmt.Sprintf("m%d", r.IntN(nm+1)) // sometimes a machine that is gone
		}
		jobs = append(jobs, job(fmt.Sprintf("u%d.service", i), c, at))
	}
	globals := []Job{job("g.service", Constraints{Global: true, Metadata: map[string][]string{"zone": {"1"}}}, "")}
	return ms, jobs, globals
}

// BenchmarkSchedule places 10,000 units on 1,000 machines, then reschedules the units of
// one machine that died.
func BenchmarkSchedule(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	var ms []Machine
	for i := range 1000 {
		ms = append(ms, Machine{ID: fmt.Sprintf("m%04d", i), Metadata: map[string]string{"zone": fmt.Sprint(i % 3)}})
	}
	var jobs []Job
	for i := range 10000 {
		c := Constraints{}
		if i%10 == 0 {
			c.Metadata = map[string][]string{"zone": {fmt.Sprint(r.IntN(3))}}
		}
		if i%7 == 0 {
			c.Conflicts = []string{fmt.Sprintf("svc%d@*.service", i%50)}
		}
		jobs = append(jobs, job(fmt.Sprintf("svc%d@%d.service", i%50, i), c, ""))
	}
	b.Run("place-all", func(b *testing.B) {
		for b.Loop() {
			Schedule(ms, jobs, nil)
		}
	})
	at := placements(jobs, Schedule(ms, jobs, nil))
	placed := make([]Job, len(jobs))
	for i, j := range jobs {
		j.Machine = at[j.Name]
		placed[i] = j
	}
	b.Run("reschedule-dead-machine", func(b *testing.B) {
		for b.Loop() {
			Schedule(ms[1:], placed, nil)
		}
	})
}
