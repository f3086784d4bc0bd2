package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var kuboFingerprintRE = regexp.MustCompile(`Swarm key fingerprint: ([0-9a-f]+)`)

// TestKuboSwarmKey: a Kubo node and an imgp2p daemon given the same
// swarm.key (made by `imgp2p swarm-key generate`) form one private network:
// both print the same key fingerprint, Kubo gets an image from imgp2p and
// imgp2p pulls one from Kubo. Without the key neither side reaches the
// other, and imgp2p says the swarm key is why.
func TestKuboSwarmKey(t *testing.T) {
	needKubo(t)
	raw := newRepo(t).ok("swarm-key", "generate").stdout
	key := writeKey(t, raw, 0o600)
	k := newKubo(t)
	if err := os.WriteFile(filepath.Join(k.path, "swarm.key"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	kd := k.startDaemon()
	a := newRepo(t)
	src := helloLayout(t)
	cid := a.push(src)
	da := a.startDaemon("--swarm-key", key)

	m := kuboFingerprintRE.FindSubmatch(readFile(t, kd.log))
	if m == nil {
		t.Fatalf("Kubo printed no swarm key fingerprint:\n%s", readFile(t, kd.log))
	}
	if ours := fingerprint(t, da, raw); ours != string(m[1]) {
		t.Errorf("same key, different fingerprints: imgp2p %s, Kubo %s", ours, m[1])
	}

	// Kubo → imgp2p inside the network.
	k.connect(da.Addr)
	got := filepath.Join(t.TempDir(), "from-imgp2p")
	k.ok("get", "--progress=false", "-o", got, cid)
	sameLayout(t, got, src)

	// imgp2p ← Kubo: an image only Kubo holds.
	only := randomLayout(t, 3, 5)
	kcid := k.add(only).Root
	out := filepath.Join(t.TempDir(), "from-kubo")
	res := newRepo(t).ok("pull", "--swarm-key", key, "--peer", kd.Addr, "--timeout", "1m", "--format", "oci", "-o", out, kcid)
	fetchedFromKubo(t, res, kd.ID)
	sameLayout(t, out, only)

	// Outside the network: a keyless imgp2p cannot pull from Kubo, and is
	// told why (10s leaves room for libp2p's 5s bound on a local dial,
	// which a failed handshake may run into).
	res = newRepo(t).fails("pull", "--peer", kd.Addr, "--timeout", "10s", "-o", filepath.Join(t.TempDir(), "c.tar"), kcid)
	if !strings.Contains(string(res.stderr), "same swarm key") {
		t.Errorf("keyless pull from a Kubo node in a private network does not mention the swarm key: %v", res)
	}
	// … and Kubo cannot connect to a keyless imgp2p daemon.
	dn := newRepo(t).startDaemon()
	if res := k.run("swarm", "connect", dn.Addr); res.code == 0 {
		t.Errorf("Kubo in a private network connected to a daemon without the key: %v", res)
	}
}
