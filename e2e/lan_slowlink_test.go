package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestLANSlowLink: a puller behind a 2 Mbit/s link pulls a 4 MiB image
// through its daemon from a seeder it found by mDNS, for about 17 s. The
// seeder sends the blocks asked of it side by side, so none is whole for
// well over --timeout 20s's 5 s between redials; bytes keep coming all
// that time, so nothing may take the transfer for a stalled one or the
// seeder for a peer gone silent: the pull never redials, the daemon drops
// no one, and each block crosses the link once. Before, the stall watch
// saw no block for 5 s, redialed (throwing away every block in flight),
// and again, and failed after 20 s with none stored.
func TestLANSlowLink(t *testing.T) {
	n := newSeededLAN(t, 4, 14)
	l, hs, hp, puller, cid, want, image, ds, dp := n.l, n.hs, n.hp, n.puller, n.cid, n.want, n.image, n.ds, n.dp
	l.shape(hp, "2mbit")
	waitPeer(t, puller, ds.ID, "mdns", hs.IP)

	base := rxBytes(t, hp)
	got := filepath.Join(t.TempDir(), "got.tar")
	// A --timeout a user on a slow link might well give: 20 s without a
	// byte is a dead transfer.
	res := puller.ok("pull", "--timeout", "20s", "-o", got, cid)
	wire := rxBytes(t, hp) - base
	t.Logf("%s; %d KiB on the wire", lastLine(res.stderr), wire>>10)
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("the pull differs from the seeder's image")
	}
	if bytes.Contains(res.stderr, []byte("reconnecting")) {
		t.Errorf("the pull took the slow link for a stall:\n%s", res.stderr)
	}
	log := readFile(t, dp.log)
	for _, drop := range []string{"stopped answering", "is back"} {
		if bytes.Contains(log, []byte(drop)) {
			t.Errorf("the puller's daemon dropped the busy seeder as silent (%q); its log:\n%s", drop, log)
		}
	}
	// Every block once: the image, plus headers and the peers' chatter.
	if bound := image.localBytes + image.localBytes/20 + 256<<10; wire > bound {
		t.Errorf("%d KiB reached the puller for a %d KiB image: blocks came twice", wire>>10, image.localBytes>>10)
	}
}
