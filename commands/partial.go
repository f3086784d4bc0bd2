package commands

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Output is written under a temporary name that carries the writer's PID,
// so a later pull to the same place can tell the leftovers of a killed
// pull (whose process is gone) from a pull still running.

func partialPrefix(target string) string {
	return "." + filepath.Base(filepath.Clean(target)) + ".partial-"
}

func partialPattern(target string) string {
	return fmt.Sprintf("%s%d-*", partialPrefix(target), os.Getpid())
}

// sweepPartials removes temporary outputs for target left by processes
// that no longer exist. Failures are ignored: it is housekeeping.
func sweepPartials(target string) {
	dir := filepath.Dir(filepath.Clean(target))
	prefix := partialPrefix(target)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// processAlive reports whether pid names a running process (one this user
// may not signal still counts).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
