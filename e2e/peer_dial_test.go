package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

// TestPeerUnreachableSaysWhy: a --peer that cannot be reached is reported
// with the reason, by a one-shot pull and by a daemon, instead of leaving
// the user to guess from "no peer provided it". A peer in another private
// network gets a hint about the swarm key, since the handshake failure
// libp2p reports does not say so.
func TestPeerUnreachableSaysWhy(t *testing.T) {
	a, b, c := newRepo(t), newRepo(t), newRepo(t)
	key := writeKey(t, a.ok("swarm-key", "generate").stdout, 0o600)
	cid := a.push(helloLayout(t))
	da := a.startDaemon("--swarm-key", key)

	// The handshake with a peer holding a key can hang (each side waits
	// for bytes the other's garbage promised) until libp2p's 5s bound on
	// dialing a local address: --timeout leaves room for that.
	res := b.fails("pull", "--peer", da.Addr, "--timeout", "10s", "-o", filepath.Join(t.TempDir(), "b.tar"), cid)
	for _, want := range []string{"cannot reach peer " + da.ID, "same swarm key"} {
		if !bytes.Contains(res.stderr, []byte(want)) {
			t.Errorf("pull from a peer in a private network, without its key, does not say %q: %v", want, res)
		}
	}

	// Nothing listens on port 1: the daemon's log must say so, and keep
	// running (the peer may come up later).
	dc := c.startDaemon("--peer", "/ip4/127.0.0.1/tcp/1/p2p/"+da.ID)
	deadline := time.Now().Add(30 * time.Second)
	for {
		log := readFile(t, dc.log)
		if bytes.Contains(log, []byte("cannot reach peer "+da.ID)) && bytes.Contains(log, []byte("connection refused")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon with an unreachable --peer never said so within 30s:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}
