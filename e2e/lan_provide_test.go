package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

// TestLANDaemonAnnouncesWhatItPulled: a daemon that pulled an image
// becomes a provider of it in the DHT. No mDNS anywhere: A holds the
// image, D is a DHT peer holding nothing, B's daemon (connected to A and
// D) pulls it, and A stops. D's DHT then names B as a provider, and C,
// knowing only D, gets the image from B.
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
	da.stop(t)

	// B announces in the background: ask until its record is there.
	deadline := time.Now().Add(time.Minute)
	for {
		res := d.ok("providers", "--timeout", "5s", cid)
		if bytes.Contains(res.stdout, []byte(db.ID)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("D's DHT never named B (%s) as a provider of %s:\n%s\nB's log:\n%s", db.ID, cid, res.stdout, readFile(t, db.log))
		}
	}

	got := filepath.Join(t.TempDir(), "c.tar")
	res := c.ok("pull", "--mdns=false", "--peer", dd.Addr, "--timeout", "1m", "-o", got, cid)
	if n := summaryPeers(t, res); n != "1" || !bytes.Contains(res.stderr, []byte(db.ID[len(db.ID)-8:])) {
		t.Errorf("C's pull: want its blocks from B (%s) alone: %v", db.ID, res)
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
		{d, nil, "providers takes one CID or image name, got 0"},
		{d, []string{"--limit", "0", cid}, "--limit 0"},
		{d, []string{"no-such-image"}, "no-such-image"},
	} {
		res := tc.r.fails(append([]string{"providers"}, tc.args...)...)
		if !bytes.Contains(res.stderr, []byte(tc.want)) || len(res.stdout) > 0 {
			t.Errorf("providers %v: want an error naming %q and nothing on stdout: %v", tc.args, tc.want, res)
		}
	}
}
