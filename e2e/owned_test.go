package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestOwnedRepo: while `push -` owns a repo (it is still reading stdin), any
// other command on that repo fails at once, naming the repo and the owner's
// PID; once the push finishes, the repo is usable again.
func TestOwnedRepo(t *testing.T) {
	r := newRepo(t)
	layout := helloLayout(t)
	want := newRepo(t).push(layout)

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	push := r.command(ctx, "push", "-")
	var stdout, stderr bytes.Buffer
	push.Stdout, push.Stderr = &stdout, &stderr
	stdin, err := push.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := push.Start(); err != nil {
		t.Fatal(err)
	}
	pushDone := false
	defer func() {
		if !pushDone {
			stdin.Close()
			push.Wait()
		}
	}()
	pid := strconv.Itoa(push.Process.Pid)

	// Poll until the push holds the repo: ls may get in first.
	deadline := time.Now().Add(30 * time.Second)
	var res result
	for {
		res = r.run(nil, "ls")
		if res.code != 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond) // poll interval, bounded by the deadline
	}
	if res.code == 0 {
		t.Fatalf("ls kept succeeding for 30s while `push -` was reading its stdin: %v", res)
	}
	for _, cmd := range [][]string{{"ls"}, {"push", layout}, {"pull", "--offline", want}, {"id"}} {
		res := r.run(nil, cmd...)
		if res.code == 0 {
			t.Errorf("succeeded on a repo owned by PID %s: %v", pid, res)
			continue
		}
		if !bytes.Contains(res.stderr, []byte(r.dir)) || !bytes.Contains(res.stderr, []byte(pid)) {
			t.Errorf("error should name repo %s and owner PID %s: %v", r.dir, pid, res)
		}
		if res.elapsed > 10*time.Second {
			t.Errorf("took %v to report an owned repo: it waited instead of failing", res.elapsed)
		}
	}

	// Finish the push with an oci-archive; it must succeed as usual.
	f, err := os.Open(ociArchive(t, layout))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(stdin, f); err != nil {
		t.Fatalf("feeding push -: %v (stderr: %s)", err, stderr.Bytes())
	}
	stdin.Close()
	err = push.Wait()
	pushDone = true
	if err != nil {
		t.Fatalf("push - failed: %v\nstderr: %s", err, stderr.Bytes())
	}
	if m := cidLine.FindSubmatch(stdout.Bytes()); m == nil || string(m[1]) != want {
		t.Errorf("push - printed %q, want %s", stdout.Bytes(), want)
	}
	if ls := r.ok("ls"); !bytes.Contains(ls.stdout, []byte(want)) {
		t.Errorf("ls after the push does not list %s:\n%s", want, ls.stdout)
	}
}
