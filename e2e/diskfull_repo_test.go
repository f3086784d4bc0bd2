package e2e

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A repo whose own disk fills up. TestPullDiskFull covers a full output
// disk; here it is the datastore that cannot grow.

// noSpace is what a clear disk-full error says.
var noSpace = regexp.MustCompile(`(?i)no space left|disk (is )?full|ENOSPC|out of (disk )?space`)

// wantDiskFullError checks a command failed because the repo's disk is
// full, and said so, rather than crashing.
func wantDiskFullError(t *testing.T, res result) {
	t.Helper()
	if res.code == 0 {
		t.Fatalf("succeeded on a full disk: %v", res)
	}
	if bytes.Contains(res.stderr, []byte("fatal error:")) || bytes.Contains(res.stderr, []byte("SIGBUS")) ||
		bytes.Contains(res.stderr, []byte("panic:")) {
		t.Errorf("crashed instead of reporting the full disk: %s", brief(res))
	} else if !noSpace.Match(res.stderr) {
		t.Errorf("error does not say the disk is full: %s", brief(res))
	}
	if len(res.stdout) != 0 {
		t.Errorf("failed command printed on stdout: %.200q", res.stdout)
	}
}

// brief is a result with only the first lines of stderr: a Go crash dump
// would bury everything else in the test's output.
func brief(res result) string {
	lines := strings.SplitN(string(res.stderr), "\n", 6)
	if len(lines) > 5 {
		lines[5] = fmt.Sprintf("[%d more bytes]", len(res.stderr)-len(strings.Join(lines[:5], "\n")))
	}
	return fmt.Sprintf("`%s` exited %d after %v\nstderr: %s", strings.Join(res.argv, " "), res.code,
		res.elapsed.Round(time.Millisecond), strings.Join(lines, "\n"))
}

// TestDiskFullPush: pushing 128 MiB into a repo on a 64 MiB disk fails
// with an error saying so; the repo still opens, holds no half image and
// verifies clean, and after `gc` (which removes leftovers of failed
// operations) a small push works.
func TestDiskFullPush(t *testing.T) {
	layout := randomLayout(t, 128, 31)
	r := newRepo(t)
	r.dir = filepath.Join(smallDisk(t, "64m"), "repo")
	wantDiskFullError(t, r.run(nil, "push", layout))
	wantRepoEmpty(t, r)
	afterDiskFull(t, r)
}

// TestDiskFullPull: the same for a pull from a peer into a repo on a 64 MiB
// disk; no output file appears (the output directory has room: only the
// repo is full).
func TestDiskFullPull(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon()
	cid := a.push(randomLayout(t, 128, 32))
	b := newRepo(t)
	b.dir = filepath.Join(smallDisk(t, "64m"), "repo")
	out := t.TempDir()
	wantDiskFullError(t, b.run(nil, "pull", "--peer", da.Addr, "--timeout", "2m", "-o", filepath.Join(out, "img.tar"), cid))
	emptyDir(t, out)
	wantRepoEmpty(t, b)
	afterDiskFull(t, b)
	da.stop(t)
}

// afterDiskFull: `gc` clears what the failed operation left, and a small
// push (~640 KB) then fits.
func afterDiskFull(t *testing.T, r *repo) {
	t.Helper()
	if res := r.run(nil, "gc"); res.code != 0 {
		t.Fatalf("gc after the full disk: %s", brief(res))
	}
	if res := r.run(nil, "push", helloLayout(t)); res.code != 0 {
		t.Errorf("a small push after gc: %s", brief(res))
	}
}
