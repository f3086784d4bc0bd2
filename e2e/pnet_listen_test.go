package e2e

import (
	"bytes"
	"strings"
	"testing"
)

// TestSwarmKeyKeepsListenAddress: in a private network QUIC is impossible,
// so a daemon told to listen on QUIC at 127.0.0.1 listens on TCP at
// 127.0.0.1 — where it was told, not on every interface — and says so.
func TestSwarmKeyKeepsListenAddress(t *testing.T) {
	r := newRepo(t)
	key := writeKey(t, r.ok("swarm-key", "generate").stdout, 0o600)
	d := r.launchDaemon(addrWithPrefix("/ip4/127.0.0.1/tcp/"), "daemon", "--swarm-key", key, "--listen", "/ip4/127.0.0.1/udp/0/quic-v1")
	socks := inetSockets(t, netns)
	if !strings.Contains(socks, "LISTEN") {
		t.Fatalf("control: no listening socket in the test namespace:\n%s", socks)
	}
	for _, line := range strings.Split(socks, "\n") {
		if strings.Contains(line, "LISTEN") && !strings.Contains(line, "127.0.0.1:") {
			t.Errorf("daemon told to listen on 127.0.0.1 listens elsewhere: %s", line)
		}
	}
	if log := readFile(t, d.log); !bytes.Contains(log, []byte("private network: listening on /ip4/127.0.0.1/tcp/0 instead of /ip4/127.0.0.1/udp/0/quic-v1")) {
		t.Errorf("daemon does not say where it listens instead of QUIC:\n%s", log)
	}
}
