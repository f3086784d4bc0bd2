package e2e

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A copy whose blocks come from a peer that hangs midway (SIGSTOP: the
// connection stays up, nothing more arrives) ends after --timeout, as a
// pull does; before, it waited for ever, in the upload or, when the
// registry had every blob, in the fetch that follows it.
func TestRegistryCopyEndsWhenPeerStalls(t *testing.T) {
	b := newRepo(t)
	res := copyFromStallingPeer(t, b)
	if !strings.Contains(string(res.stderr), "stalled") {
		t.Errorf("want the copy reported as stalled: %v", res)
	}
}

// TestRegistryCopyStallLinesReachTheClient: through a daemon, the lines a
// stalled copy prints (reconnecting to its peers) reach the user's
// stderr, as a pull's do, not the daemon's log.
func TestRegistryCopyStallLinesReachTheClient(t *testing.T) {
	b := newRepo(t)
	bd := b.startDaemon("--mdns=false")
	res := copyFromStallingPeer(t, b)
	const line = "reconnecting to peers"
	if !strings.Contains(string(res.stderr), line) {
		t.Errorf("the copy's stderr lacks %q: %v", line, res)
	}
	if log := string(readFile(t, bd.log)); strings.Contains(log, line) {
		t.Errorf("the daemon's log has the copy's lines:\n%s", log)
	}
}

// copyFromStallingPeer copies through b an image whose blocks come from
// a peer stopped midway, and returns the copy's failed result.
func copyFromStallingPeer(t *testing.T, b *repo) result {
	t.Helper()
	reg := startRegistry(t)
	a := newRepo(t)
	cid := a.push(randomLayout(t, 96, 23))
	d := a.startDaemon()

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	done := make(chan result, 1)
	cmd := b.command(ctx, "copy", "--peer", d.Addr, "--timeout", "3s", cid, "docker://"+reg.Host+"/peerstall:v1")
	go func() { done <- execute(cmd, nil) }()

	// Stop the peer once b holds part of the image, far from all of it.
	deadline := time.Now().Add(time.Minute)
	for allocatedBytes(b.dir) < 8<<20 {
		select {
		case res := <-done:
			t.Fatalf("copy ended before the peer was stopped: %v", res)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("b holds %d bytes after a minute", allocatedBytes(b.dir))
		}
		time.Sleep(5 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
	if err := d.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	t.Cleanup(func() { d.cmd.Process.Signal(syscall.SIGCONT) }) // before d's own cleanup stops it

	res := <-done
	t.Logf("copy ended %s after the peer stopped: %s", time.Since(stopped).Round(time.Millisecond), res.stderr)
	if res.code == 0 {
		t.Fatalf("copy succeeded from a peer stopped midway (it had every block already?): %v", res)
	}
	if took := time.Since(stopped); took > time.Minute {
		t.Errorf("copy --timeout 3s ended %s after the peer stopped", took)
	}
	return res
}
