package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// table is a markdown table printed once complete.
type table struct{ rows [][]string }

func newTable(head ...string) *table { return &table{rows: [][]string{head}} }

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) print(w io.Writer) {
	line := func(cells []string) { fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | ")) }
	line(t.rows[0])
	sep := make([]string, len(t.rows[0]))
	for i := range sep {
		sep[i] = "---"
	}
	line(sep)
	for _, r := range t.rows[1:] {
		line(r)
	}
	fmt.Fprintln(w)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// timeCell is a time, with the range of the runs it is the median of.
func timeCell(o outcome) string {
	if o.reps < 2 {
		return secs(o.elapsed)
	}
	return fmt.Sprintf("%s (%.2f–%.2f)", secs(o.elapsed), o.fastest.Seconds(), o.slowest.Seconds())
}

func ratio(x float64) string { return fmt.Sprintf("%.2f×", x) }

func mb(x float64) string { return fmt.Sprintf("%.0f MB", x) }

// split is a process's sampled anonymous and file-backed RSS peaks.
func split(o outcome) string { return fmt.Sprintf("%.0f / %.0f MB", o.anonMB, o.fileMB) }

// speedup is how many times faster o is than base (>1: o is faster).
func speedup(o, base outcome) float64 { return base.elapsed.Seconds() / o.elapsed.Seconds() }

// target says whether a figure meets one of issue 7's targets.
func target(what string, got float64, ok bool) string {
	verdict := "met"
	if !ok {
		verdict = "**not met**"
	}
	return fmt.Sprintf("%s: %s (%.2f)", what, verdict, got)
}
