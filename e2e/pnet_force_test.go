package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestForcePnetNeedsAKey: with LIBP2P_FORCE_PNET=1 (libp2p's and Kubo's
// switch, which the README names) no node starts without a swarm key, and
// the refusal says where the key goes; with one, a daemon serves and a
// one-shot pull given the key fetches from it. A command that needs no
// network (push) is unaffected.
func TestForcePnetNeedsAKey(t *testing.T) {
	t.Setenv("LIBP2P_FORCE_PNET", "1") // inherited by every imgp2p this test runs
	a := newRepo(t)
	cid := a.push(helloLayout(t))
	res := a.fails("daemon", "--listen", "/ip4/127.0.0.1/tcp/0", "--mdns=false")
	if want := "LIBP2P_FORCE_PNET=1 requires a private network"; !bytes.Contains(res.stderr, []byte(want)) || !bytes.Contains(res.stderr, []byte(filepath.Join(a.dir, "swarm.key"))) {
		t.Errorf("daemon without a key: %v\nwant %q and the repo's swarm.key path", res, want)
	}

	key := writeKey(t, a.ok("swarm-key", "generate").stdout, 0o600)
	d := a.startDaemon("--mdns=false", "--swarm-key", key)
	b := newRepo(t)
	if res := b.fails("pull", "--mdns=false", "--peer", d.Addr, cid); !bytes.Contains(res.stderr, []byte("requires a private network")) {
		t.Errorf("one-shot pull without a key: %v, want the same refusal", res)
	}
	b.ok("pull", "--mdns=false", "--swarm-key", key, "--peer", d.Addr, "--timeout", "1m", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
}
