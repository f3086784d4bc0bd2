package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// A hung registry (here crane's, stopped with SIGSTOP: the kernel still
// accepts connections, nothing answers them) ends push and copy after
// --timeout with an error saying so; before, both waited for ever.
func TestRegistryStalledEndsAfterTimeout(t *testing.T) {
	reg := startRegistry(t)
	dir := helloLayout(t)
	ref := reg.Host + "/hello:v1"
	reg.crane(t, "push", dir, ref)
	r := newRepo(t)
	cid := r.push(dir)

	if err := reg.proc.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.proc.Signal(syscall.SIGCONT) })
	for _, args := range [][]string{
		{"push", "--timeout", "2s", "docker://" + ref},
		{"copy", "--timeout", "2s", cid, "docker://" + reg.Host + "/copy:v1"},
	} {
		res := r.fails(args...)
		// Far under the harness's own limit, which would otherwise end it.
		if res.elapsed > time.Minute {
			t.Errorf("%s took %s with --timeout 2s", args[0], res.elapsed)
		}
		if !strings.Contains(string(res.stderr), "accepted nothing for 2s") {
			t.Errorf("%s: want the registry named as stalled on stderr: %v", args[0], res)
		}
		if len(res.stdout) != 0 {
			t.Errorf("%s printed %q on stdout", args[0], res.stdout)
		}
	}
	if ls := r.ok("ls", "-q"); string(ls.stdout) != cid+"\n" {
		t.Errorf("ls -q after the stalled push: %q, want only %s", ls.stdout, cid)
	}
}
