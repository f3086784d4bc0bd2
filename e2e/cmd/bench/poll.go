package main

import (
	"time"
)

// pollUntil checks cond every pollEvery until it holds or timeout passes,
// or one of the watched processes exits (which ends the bench). It returns
// whether cond held and the last thing cond said.
func pollUntil(timeout time.Duration, watch []*proc, cond func() (bool, string)) (bool, string) {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		var ok bool
		if ok, last = cond(); ok {
			return true, last
		}
		for _, p := range watch {
			if p.exited() {
				fatalf("%s exited while the bench waited for it (%v)\nlast check: %s\n%s", p.name, p.err, last, p.logTail())
			}
		}
		if time.Now().After(deadline) {
			return false, last
		}
		time.Sleep(pollEvery) // polling a condition, bounded by the deadline above
	}
}

const pollEvery = 100 * time.Millisecond

// mustPoll is pollUntil for conditions the bench cannot go on without.
func mustPoll(what string, timeout time.Duration, watch []*proc, cond func() (bool, string)) {
	if ok, last := pollUntil(timeout, watch, cond); !ok {
		var tails string
		for _, p := range watch {
			tails += p.logTail()
		}
		fatalf("%s: not after %v (last check: %s)\n%s", what, timeout, last, tails)
	}
}
