package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDaemonStoppedMidPull: a daemon stopped (SIGINT) while a pull through
// it waits for blocks exits cleanly and releases the repo, and the pull
// fails saying the node shut down — not with bitswap's "promise channel
// was closed", which is what a closing node's fetches report.
func TestDaemonStoppedMidPull(t *testing.T) {
	r := newRepo(t)
	d := r.startDaemon()
	p, _ := startWaitingPull(t, r)
	d.stop(t)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("pull still running 30s after its daemon stopped; log:\n%s", p.logText())
	}
	log := p.logText()
	if p.err == nil || !strings.Contains(log, "shutting down") || strings.Contains(log, "promise channel") {
		t.Errorf("pull through a daemon that stopped: want a failure saying the node shut down, got %v:\n%s", p.err, log)
	}
	if res := r.runWithin(20*time.Second, "ls"); res.code != 0 {
		t.Errorf("the stopped daemon's repo does not open: %v", res)
	}
}

// startWaitingPull starts a pull through r's daemon of an image no peer
// has, to a file, and returns once it waits for peers.
func startWaitingPull(t *testing.T, r *repo) (p *bgProc, out string) {
	t.Helper()
	cid := unknownCID()
	out = filepath.Join(t.TempDir(), "img.tar")
	p = r.startBackground(nil, "pull", "--timeout", "2m", "-o", out, cid)
	waitUntil(t, "the pull waiting for "+cid, 30*time.Second, p, func() bool {
		return strings.Contains(p.logText(), "waiting for "+cid)
	})
	return p, out
}

// TestDaemonKilledMidPull: a daemon killed (SIGKILL, the OOM killer's
// signal) while a pull through it waits leaves the pull failing at once
// with an error that says the daemon stopped, not a bare "EOF".
func TestDaemonKilledMidPull(t *testing.T) {
	r := newRepo(t)
	d := r.startDaemon()
	p, out := startWaitingPull(t, r)
	d.cmd.Process.Kill()
	<-d.exited
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("pull still running 30s after its daemon was killed; log:\n%s", p.logText())
	}
	if log := p.logText(); p.err == nil || !strings.Contains(log, "the daemon stopped during the request") {
		t.Errorf("pull through a daemon that was killed: want a failure saying the daemon stopped, got %v:\n%s", p.err, log)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s exists after the pull failed", out)
	}
	if res := r.runWithin(20*time.Second, "ls"); res.code != 0 {
		t.Errorf("the killed daemon's repo does not open: %v", res)
	}
}
