package e2e

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestUsageErrorsAreOneLineOnStderr: a mistyped flag printed the whole
// help to stdout, where `cid=$(imgp2p push …)` or `pull … | docker load`
// took it for data. It is one line on stderr now, naming the flag, and a
// command that takes no arguments refuses them (`gc CID` collected
// everything unpinned, not that image), and a --timeout that bounds
// nothing is refused.
func TestUsageErrorsAreOneLineOnStderr(t *testing.T) {
	r := newRepo(t)
	layout := helloLayout(t)
	cid := r.push(layout)
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"push", "--plaform", "linux/amd64", "x"}, "-plaform"},
		{[]string{"pull", "--timeout", "5", cid}, "-timeout"},
		// A --timeout that bounds nothing: pull failed at once "within
		// 0s" even for an image the repo holds; copy took 0 for 5m.
		{[]string{"pull", "--timeout", "0", cid}, "--timeout 0s: want a positive duration"},
		{[]string{"pull", "--timeout", "-5s", cid}, "--timeout -5s: want a positive duration"},
		{[]string{"copy", "--timeout", "0", cid, "docker://127.0.0.1:1/app:v1"}, "--timeout 0s: want a positive duration"},
		{[]string{"push", "--timeout", "0", layout}, "--timeout 0s: want a positive duration"},
		{[]string{"--bogus", "ls"}, "-bogus"},
		{[]string{"pin", "add", "--nope", cid}, "imgp2p pin add --help"},
		{[]string{"gc", cid}, "gc takes no arguments"},
		{[]string{"ls", "extra"}, "ls takes no arguments"},
		// --tag was silently dropped: an OCI layout keeps its pushed names.
		{[]string{"pull", "--format", "oci-archive", "--tag", "app:v1", cid}, "--tag names images in a docker-archive"},
		{[]string{"pull", "--format", "oci", "-o", t.TempDir() + "/out", "--tag", "app:v1", cid}, "--tag names images in a docker-archive"},
		// A mistyped format is named as such, not as one that keeps names.
		{[]string{"pull", "--format", "dockr", "--tag", "app:v1", cid}, `unknown --format "dockr"`},
	}
	for _, c := range cases {
		res := r.fails(c.args...)
		if len(res.stdout) != 0 {
			t.Errorf("%v: %d bytes on stdout: %.80q", c.args, len(res.stdout), res.stdout)
		}
		if lines := strings.Count(strings.TrimSpace(string(res.stderr)), "\n") + 1; lines != 1 || !bytes.Contains(res.stderr, []byte(c.says)) {
			t.Errorf("%v: stderr %q, want one line with %q", c.args, res.stderr, c.says)
		}
	}
}

// TestPushFromATerminalIsRefused: `push -` with stdin on a terminal waited
// for a tar to be typed, deaf to Ctrl-C (a terminal read cannot see it).
// It is refused at once, as pull refuses to write a tar to one.
func TestPushFromATerminalIsRefused(t *testing.T) {
	r := newRepo(t)
	master, slave, err := openPTY()
	need(t, "pseudo-terminal", err)
	defer master.Close()
	defer slave.Close()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := r.command(ctx, "push", "-")
	cmd.Stdin = slave
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	res := finish(cmd, cmd.Run(), stdout.Bytes(), stderr.Bytes(), start)
	if res.code == 0 || !bytes.Contains(res.stderr, []byte("terminal")) || len(res.stdout) != 0 {
		t.Fatalf("push - from a terminal: %v, want a refusal naming the terminal", res)
	}
	if res.elapsed > 30*time.Second {
		t.Errorf("the refusal took %v", res.elapsed)
	}
}
