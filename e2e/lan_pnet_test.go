package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// writeKey writes a swarm key to a file of the test's and returns its path.
func writeKey(t *testing.T, key []byte, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "swarm.key")
	if err := os.WriteFile(path, key, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

// keyHeader starts every key in Kubo's swarm.key format.
const keyHeader = "/key/swarm/psk/1.0.0/\n/base16/\n"

var fingerprintRE = regexp.MustCompile(`swarm key fingerprint ([0-9a-f]+)`)

// fingerprint is the key fingerprint d logged, which must not be the key.
func fingerprint(t *testing.T, d *daemon, key []byte) string {
	t.Helper()
	log := readFile(t, d.log)
	hexKey := bytes.TrimSpace(bytes.TrimPrefix(key, []byte(keyHeader)))
	m := fingerprintRE.FindSubmatch(log)
	if m == nil || bytes.Contains(log, hexKey) {
		t.Fatalf("daemon log must show the key's fingerprint and never the key:\n%s", log)
	}
	return string(m[1])
}

// TestLANSwarmKey: A (key in its repo) and F (same key, --swarm-key) find
// each other and share images; E (another key) and G (no key) find A by
// mDNS or are given its address, yet never connect and cannot fetch.
func TestLANSwarmKey(t *testing.T) {
	l := newLAN(t)
	ha, he, hf, hg := l.host("a"), l.host("e"), l.host("f"), l.host("g")
	a, e, f, g := ha.repo(t), he.repo(t), hf.repo(t), hg.repo(t)
	key, other := a.ok("swarm-key", "generate").stdout, a.ok("swarm-key", "generate").stdout
	if bytes.Equal(key, other) || !regexp.MustCompile(`^`+regexp.QuoteMeta(keyHeader)+`[0-9a-f]{64}\n$`).Match(key) {
		t.Fatalf("swarm-key generate gave %q then %q: want two different Kubo-format keys", key, other)
	}
	cid := a.push(helloLayout(t)) // also creates A's repo directory
	if err := os.WriteFile(filepath.Join(a.dir, "swarm.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	da := ha.daemon(a)

	// E starts first: by the time A lists F, E had at least as long to
	// find A by mDNS and dial it.
	// F's key file is world-readable, which is worth a warning.
	de := he.daemon(e, "--swarm-key", writeKey(t, other, 0o600))
	df := hf.daemon(f, "--swarm-key", writeKey(t, key, 0o644))
	if fa, fe, ff := fingerprint(t, da, key), fingerprint(t, de, other), fingerprint(t, df, key); fa != ff || fa == fe {
		t.Errorf("fingerprints: A %s, F (same key) %s, E (other key) %s", fa, ff, fe)
	}
	if log := readFile(t, df.log); !bytes.Contains(log, []byte("readable by others")) {
		t.Errorf("no warning about F's mode 0644 swarm key:\n%s", log)
	}
	if log := readFile(t, da.log); bytes.Contains(log, []byte("readable by others")) {
		t.Errorf("warning about A's mode 0600 swarm key:\n%s", log)
	}
	waitPeer(t, a, df.ID, "mdns", hf.IP)
	waitPeer(t, f, da.ID, "mdns", ha.IP)

	res := e.fails("pull", "--timeout", "3s", "-o", filepath.Join(t.TempDir(), "e.tar"), cid)
	if !bytes.Contains(res.stderr, []byte("no peer provided it within 3s")) {
		t.Errorf("E's pull should say no peer provided it: %v", res)
	}
	if res.elapsed > 20*time.Second {
		t.Errorf("E's pull --timeout 3s took %v", res.elapsed)
	}
	t.Logf("E's pull: %s", res.stderr)
	// Given A's address outright, E's daemon still cannot reach it.
	res = e.fails("pull", "--peer", da.Addr, "--timeout", "3s", "-o", filepath.Join(t.TempDir(), "e2.tar"), cid)
	t.Logf("E dialing A: %s", res.stderr)
	// Neither does a node with no key at all (a one-shot pull).
	res = g.fails("pull", "--peer", da.Addr, "--timeout", "3s", "-o", filepath.Join(t.TempDir(), "g.tar"), cid)
	t.Logf("G dialing A: %s", res.stderr)
	for _, p := range a.peers() {
		if p.ID == de.ID || strings.Contains(p.Addrs, "/ip4/"+hg.IP+"/") {
			t.Errorf("A lists a peer from outside its private network: %+v", p)
		}
	}
	for _, p := range e.peers() {
		if p.ID == da.ID {
			t.Errorf("E lists A: %+v", p)
		}
	}

	// The same key works: F pulls through its daemon with no --peer.
	res = f.ok("pull", "--timeout", "1m", "-o", filepath.Join(t.TempDir(), "f.tar"), cid)
	if n := summaryPeers(t, res); n != "1" {
		t.Errorf("F fetched from %s peer(s), want 1 (A): %v", n, res)
	}
}
