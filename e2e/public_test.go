package e2e

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPublicAmino (--public, the Amino DHT): on a network whose addresses
// are public to libp2p (public_helpers_test.go), with mDNS off everywhere
// and no --peer anywhere, a Kubo DHT server K is the only bootstrap peer.
//
//  1. imgp2p daemon A announces on the Amino DHT an image pushed before it
//     started and one pushed through it: K's `ipfs routing findprovs`
//     lists A for both, still when A is off the network.
//  2. imgp2p B, knowing only K, pulls both (one-shot, then through its
//     daemon), fetching from A: the same bytes as A writes. K never holds
//     them, mDNS is off, and the LAN DHT refuses public addresses behind a
//     router, so only the Amino DHT can have led B to A. B's `providers`
//     names A.
//  3. K announces an image only it holds (B's providers names K), and
//     B's daemon pulls it: Kubo peers serve the public network too.
func TestPublicAmino(t *testing.T) {
	needKubo(t)
	pn := newPublicNet(t)
	hk, ha, hb := pn.publicHost("kubo"), pn.publicHost("a"), pn.publicHost("b")
	k := newPublicKubo(t, hk)
	k.startDaemon()

	a := ha.repo(t)
	a.setBootstrap(k.Addr)
	// Pushed with no daemon: announced by the daemon's start-up reprovide.
	early := a.push(randomLayout(t, 2, 41))
	da := ha.daemon(a, "--public", "--mdns=false")
	if info, res := a.id(); info.Mode != "public" {
		t.Fatalf("A's daemon runs in mode %q, want public: %v", info.Mode, res)
	}
	// Pushed through the daemon: announced as it is pushed.
	late := a.push(randomLayout(t, 2, 42))
	want := map[string]string{}
	for _, c := range []string{early, late} {
		want[c] = filepath.Join(t.TempDir(), "want.tar")
		a.ok("pull", "-o", want[c], c)
	}

	for _, c := range []string{early, late} {
		took := k.waitProvider(c, da.ID, 1)
		t.Logf("K's findprovs listed A for %s after %v", c, took.Round(time.Millisecond))
		// K only routes: whatever B gets, it gets from A.
		if res := k.run("--offline", "block", "stat", c); res.code == 0 || !bytes.Contains(res.stderr, []byte("not found")) {
			t.Fatalf("K holds %s itself, so B's pull would prove nothing: %v", c, res)
		}
	}

	b := hb.repo(t)
	b.setBootstrap(k.Addr)
	got := filepath.Join(t.TempDir(), "late.tar")
	res := b.ok("pull", "--public", "--mdns=false", "--timeout", "1m", "-o", got, late)
	t.Logf("B's one-shot pull took %v", res.elapsed.Round(time.Millisecond))
	if peerShare(t, res, da.ID) == 0 {
		t.Errorf("B's one-shot pull does not credit A (%s) with any bytes: %v", da.ID, res)
	}
	if !bytes.Equal(readFile(t, want[late]), readFile(t, got)) {
		t.Errorf("B's one-shot pull differs from A's local pull")
	}

	hb.daemon(b, "--public", "--mdns=false")
	prov := b.ok("providers", "--timeout", "20s", early)
	if !providerListed(prov.stdout, da.ID, ha.IP) {
		t.Errorf("B's providers does not list A (%s) at %s: %v", da.ID, ha.IP, prov)
	}
	got = filepath.Join(t.TempDir(), "early.tar")
	res = b.ok("pull", "--timeout", "1m", "-o", got, early)
	t.Logf("B's pull through its daemon took %v", res.elapsed.Round(time.Millisecond))
	if peerShare(t, res, da.ID) == 0 {
		t.Errorf("B's daemon pull does not credit A (%s) with any bytes: %v", da.ID, res)
	}
	if !bytes.Equal(readFile(t, want[early]), readFile(t, got)) {
		t.Errorf("B's daemon pull differs from A's local pull")
	}
	waitPeer(t, b, da.ID, "dht", ha.IP)

	only := randomLayout(t, 2, 43)
	kcid := strings.TrimSpace(string(k.ok("add", "-r", "--hidden", "--progress=false", "-Q", only).stdout))
	waitProviders(t, b, kcid, k.ID)
	dir := filepath.Join(t.TempDir(), "from-kubo")
	res = b.ok("pull", "--timeout", "1m", "--format", "oci", "-o", dir, kcid)
	fetchedFromKubo(t, res, k.ID)
	sameLayout(t, dir, only)

	// K's answers above may have come from A itself, once AutoNAT made
	// its Amino DHT a server: with A off the network, K must still name
	// it, from the records A announced to it. For the early image, B's
	// daemon announced itself too.
	pn.unplug(ha)
	for c, n := range map[string]int{late: 1, early: 2} {
		k.waitProvider(c, da.ID, n)
	}

	// Nobody ever connected outside the test's network.
	var addrs []string
	for _, p := range b.peers() {
		addrs = append(addrs, strings.Split(p.Addrs, ",")...)
	}
	onlyTestPeers(t, "B", addrs)
	onlyTestPeers(t, "K", trimmedLines(k.ok("swarm", "peers").stdout))
}

// providerListed reports whether the table `imgp2p providers` printed has
// id at an address on ip.
func providerListed(out []byte, id, ip string) bool {
	for _, l := range trimmedLines(out) {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] == id && strings.Contains(f[1], "/ip4/"+ip+"/") {
			return true
		}
	}
	return false
}
