package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

// TestLANDaemonAnnouncesWhatItPulled: a daemon that pulled an image, or
// served it through its gateway, becomes a provider of it in the DHT. No
// mDNS anywhere: A holds the image, D is a DHT peer holding nothing, B's
// daemon (connected to A and D) pulls it, E's daemon (the same) serves its
// manifest to a registry client, and A stops. D's DHT then names B and E
// as providers, and C, knowing only D, gets the image from B.
func TestLANDaemonAnnouncesWhatItPulled(t *testing.T) {
	l := newLAN(t)
	ha, hb, hc, hd := l.host("a"), l.host("b"), l.host("c"), l.host("d")
	a, b, c, d := ha.repo(t), hb.repo(t), hc.repo(t), hd.repo(t)
	da := ha.daemon(a, "--mdns=false")
	dd := hd.daemon(d, "--mdns=false")
	cid := a.push(helloLayout(t))
	db := hb.daemon(b, "--mdns=false", "--peer", da.Addr, "--peer", dd.Addr)

	want := filepath.Join(t.TempDir(), "want.tar")
	a.ok("pull", "-o", want, cid)
	b.ok("pull", "--timeout", "1m", "-o", filepath.Join(t.TempDir(), "b.tar"), cid)
	he := l.host("e")
	e := he.repo(t)
	gw := newGateway(t, he.ns)
	de := he.daemon(e, "--mdns=false", "--peer", da.Addr, "--peer", dd.Addr, "--registry", gw.Host)
	if err := gw.waitReady(nil); err != nil {
		t.Fatalf("E's gateway: %v", err)
	}
	gw.get(t, "/v2/ipfs/"+cid+"/manifests/latest")
	da.stop(t)

	// Both announce in the background: ask until their records are there.
	deadline := time.Now().Add(time.Minute)
	for {
		res := d.ok("providers", "--timeout", "5s", cid)
		if bytes.Contains(res.stdout, []byte(db.ID)) && bytes.Contains(res.stdout, []byte(de.ID)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("D's DHT never named both B (%s) and E (%s) as providers of %s:\n%s", db.ID, de.ID, cid, res.stdout)
		}
		time.Sleep(200 * time.Millisecond) // polling a condition, bounded by the deadline
	}

	got := filepath.Join(t.TempDir(), "c.tar")
	res := c.ok("pull", "--mdns=false", "--peer", dd.Addr, "--timeout", "1m", "-o", got, cid)
	// The layers only B holds; E, which read the manifest, may serve that.
	if !bytes.Contains(res.stderr, []byte(db.ID[len(db.ID)-8:])) {
		t.Errorf("C's pull: want blocks from B (%s): %v", db.ID, res)
	}
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("C's pull differs from A's local pull")
	}

	// What providers refuses, and how it says so.
	for _, tc := range []struct {
		r    *repo
		args []string
		want string
	}{
		{c, []string{cid}, "start `imgp2p daemon` first"}, // no daemon on C
		{d, nil, "providers takes one CID or image name"},
		{d, []string{"--limit", "0", cid}, "--limit 0"},
		{d, []string{"--timeout", "0s", cid}, "--timeout 0s"},
		{d, []string{"no-such-image"}, "no-such-image"},
	} {
		res := tc.r.fails(append([]string{"providers"}, tc.args...)...)
		if !bytes.Contains(res.stderr, []byte(tc.want)) || len(res.stdout) > 0 {
			t.Errorf("providers %v: want an error naming %q and nothing on stdout: %v", tc.args, tc.want, res)
		}
	}
}
