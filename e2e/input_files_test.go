package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPushRefusesLayoutBlobsThatAreNotFiles: a blob that is a named pipe
// blocked push for good (deaf to SIGINT and SIGTERM), and one linked to
// /dev/urandom stored a gigabyte every few seconds without end. Both are
// refused at once, naming the blob and what it is, and the repo is fine.
func TestPushRefusesLayoutBlobsThatAreNotFiles(t *testing.T) {
	r := newRepo(t)
	for _, c := range []struct {
		kind string
		make func(path string) error
	}{
		{"a named pipe", func(path string) error { return syscall.Mkfifo(path, 0o644) }},
		{"a device", func(path string) error { return os.Symlink("/dev/urandom", path) }},
		{"a directory", func(path string) error { return os.Mkdir(path, 0o755) }},
	} {
		layout := helloLayout(t)
		layer := digests(t, layout).Layers[0]
		blob := filepath.Join(layout, "blobs", "sha256", layer.Hex)
		if err := os.Remove(blob); err != nil {
			t.Fatal(err)
		}
		if err := c.make(blob); err != nil {
			t.Fatal(err)
		}
		res := r.fails("push", layout)
		if !bytes.Contains(res.stderr, []byte(layer.Hex)) || !bytes.Contains(res.stderr, []byte(c.kind)) {
			t.Errorf("blob as %s: stderr %q, want it to name %s and say what it is", c.kind, res.stderr, layer)
		}
		if res.elapsed > 30*time.Second {
			t.Errorf("blob as %s: push took %v to fail", c.kind, res.elapsed)
		}
	}
	r.push(helloLayout(t))
}

// TestSecondInterruptEndsAStuckCommand: `push -` reading a pipe nobody
// writes cannot see the first SIGINT (it is in a read); the second ends
// it, as a shell user expects of Ctrl-C pressed twice.
func TestSecondInterruptEndsAStuckCommand(t *testing.T) {
	r := newRepo(t)
	r.push(helloLayout(t)) // the repo exists and holds something
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	p := r.startBackground(pr, "push", "-")
	pr.Close()
	// A signal before the command is under way would end it by default
	// and prove nothing: wait until it holds the repo (its signal handler
	// is installed before that).
	lock := filepath.Join(r.dir, "repo.lock")
	waitUntil(t, "push holding the repo", 20*time.Second, p, func() bool { return holds(p.cmd.Process.Pid, lock) })
	deadline := time.Now().Add(20 * time.Second)
	for !p.done() {
		if time.Now().After(deadline) {
			t.Fatalf("push - still running 20 s after repeated SIGINTs; log:\n%s", p.logText())
		}
		p.cmd.Process.Signal(os.Interrupt)
		time.Sleep(100 * time.Millisecond) // between presses; the deadline bounds the loop
	}
	if ls := r.ok("ls"); !strings.Contains(string(ls.stdout), "bafy") {
		t.Errorf("the repo lost its image after the interrupted push:\n%s", ls.stdout)
	}
}

// holds says whether process pid has path open.
func holds(pid int, path string) bool {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		if target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && target == path {
			return true
		}
	}
	return false
}
