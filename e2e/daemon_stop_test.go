package e2e

import (
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
	cid := unknownCID()
	out := filepath.Join(t.TempDir(), "img.tar")
	p := r.startBackground(nil, "pull", "--timeout", "2m", "-o", out, cid)
	waitUntil(t, "the pull waiting for "+cid, 30*time.Second, p, func() bool {
		return strings.Contains(p.logText(), "waiting for "+cid)
	})
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
