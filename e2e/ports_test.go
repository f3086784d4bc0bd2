package e2e

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tcpListen is the /ip4/…/tcp/PORT part of a dialable multiaddr.
var tcpListen = regexp.MustCompile(`^/ip4/[^/]+/tcp/\d+`)

// listenPart returns the listen multiaddr in addr (which ends in /p2p/ID).
func listenPart(t *testing.T, addr string) string {
	t.Helper()
	m := tcpListen.FindString(addr)
	if m == "" {
		t.Fatalf("no /ip4/…/tcp/PORT in %q", addr)
	}
	return m
}

// refusesHeldPort: a daemon told to listen only on held (a TCP address
// another node listens on) must fail at once, saying the address is in use
// and how to choose another. Sharing the port instead (SO_REUSEPORT) would
// let the kernel hand half the connections meant for one node to the
// other, whose peer ID the dialer rejects.
func refusesHeldPort(t *testing.T, r *repo, held string) {
	t.Helper()
	res := r.runWithin(30*time.Second, "daemon", "--listen", held)
	if res.code == 0 || res.code == -1 {
		t.Fatalf("daemon on %s, a port another node holds, should fail at once: %v", held, res)
	}
	for _, want := range []string{held, "address already in use", "--listen"} {
		if !bytes.Contains(res.stderr, []byte(want)) {
			t.Errorf("daemon's error lacks %q: %v", want, res)
		}
	}
}

// TestDaemonPortInUse: a second daemon cannot take a port the first
// listens on; given that port and a free one, it listens on the free one
// only and warns about the other.
func TestDaemonPortInUse(t *testing.T) {
	a, b := newRepo(t), newRepo(t)
	held := listenPart(t, a.startDaemon().Addr)
	refusesHeldPort(t, b, held)

	db := b.launchDaemon(addrWithPrefix("/ip4/127.0.0.1/tcp/"), "daemon", "--listen", held, "--listen", "/ip4/127.0.0.1/tcp/0")
	if log := readFile(t, db.log); !bytes.Contains(log, []byte("warning: not listening on "+held)) {
		t.Errorf("daemon given a held port and a free one does not warn about the held one:\n%s", log)
	}
	info, res := b.id()
	for _, addr := range info.Addresses {
		if strings.HasPrefix(addr, held+"/") {
			t.Errorf("second daemon lists the first one's address %s: %v", addr, res)
		}
	}
}

// TestKuboPortInUse: the same with a Kubo daemon holding the port (Kubo
// sets SO_REUSEPORT on its listeners, so only our side can refuse).
func TestKuboPortInUse(t *testing.T) {
	k := newKubo(t)
	d := k.startDaemon()
	refusesHeldPort(t, newRepo(t), listenPart(t, d.Addr))
}
