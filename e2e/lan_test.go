package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
)

// The LAN tests run on namespace LANs (lan_netns_test.go). Unless a test
// says otherwise, no node is given a peer address: what they find, they
// find by mDNS (and then the LAN DHT).

// TestLANPullByMDNS: B, with no daemon and no --peer, pulls an image that
// only daemon A holds; docker loads and runs what it wrote. Then, with B
// running as a daemon too, each lists the other as found by mDNS.
func TestLANPullByMDNS(t *testing.T) {
	needDocker(t)
	l := newLAN(t)
	ha, hb := l.host("a"), l.host("b")
	a, b := ha.repo(t), hb.repo(t)
	da := ha.daemon(a)
	layout := helloLayout(t)
	cid := a.push(layout)

	// The control: with discovery off, B knows no way to A.
	res := b.fails("pull", "--mdns=false", "--timeout", "3s", "-o", filepath.Join(t.TempDir(), "no-mdns.tar"), cid)
	if !bytes.Contains(res.stderr, []byte("no peer provided it within 3s")) || bytes.Contains(res.stderr, []byte("mDNS")) {
		t.Errorf("pull --mdns=false: want a timeout that does not claim mDNS was tried: %v", res)
	}

	tag := "imgp2p-e2e/lan-hello:v1"
	pull, load := b.pipeToDocker("pull", "--timeout", "2m", "--tag", tag, cid)
	if pull.code != 0 || load.code != 0 {
		t.Fatalf("imgp2p pull | docker load in B:\n%v\n%v", pull, load)
	}
	removeImageOnCleanup(t, tag)
	if n := summaryPeers(t, pull); n != "1" {
		t.Errorf("B fetched from %s peers, want 1 (A): %v", n, pull)
	}
	if got := loadedImage(t, load); got != tag {
		t.Errorf("docker loaded %q, want %q", got, tag)
	}
	if got, want := imageID(t, tag), digests(t, layout).Config.String(); got != want {
		t.Errorf("loaded image ID %s, want the layout's config digest %s", got, want)
	}
	runHello(t, tag)

	db := hb.daemon(b)
	waitPeer(t, b, da.ID, "mdns", ha.IP)
	waitPeer(t, a, db.ID, "mdns", hb.IP)
}

// TestLANTwoProviders: A and C both hold a multi-MiB image; D's pull takes
// blocks from both at once, and its summary counts only peers that sent
// bytes.
func TestLANTwoProviders(t *testing.T) {
	l := newLAN(t)
	ha, hc, hd := l.host("a"), l.host("c"), l.host("d")
	a, c, d := ha.repo(t), hc.repo(t), hd.repo(t)
	ha.daemon(a)
	hc.daemon(c)
	layout := randomLayout(t, 64, 3)
	cid := a.push(layout)
	if cc := c.push(layout); cc != cid {
		t.Fatalf("same layout gave %s on A, %s on C", cid, cc)
	}
	want := filepath.Join(t.TempDir(), "want.tar")
	a.ok("pull", "-o", want, cid)

	got := filepath.Join(t.TempDir(), "got.tar")
	res := d.ok("pull", "--timeout", "2m", "-o", got, cid)
	t.Logf("D's pull: %s", res.stderr)
	if n := summaryPeers(t, res); n != "2" {
		t.Errorf("D fetched from %s peer(s), want 2 (A and C): %v", n, res)
	}
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("D's pull differs from A's local pull")
	}
}
