package e2e

import (
	"path/filepath"
	"testing"
	"time"
)

// TestLANFastHolderTakesOverFromASlowSeeder: a puller is fetching a
// 16 MiB image from a seeder behind a 2 Mbit/s link (a ship's uplink, a
// device on bad Wi-Fi): about 70 s. A holder on the fast LAN comes up
// mid-pull. Blocks already asked of the seeder, a few hundred KiB of each
// on the wire, must be asked of the holder too, or the pull waits on the
// slow link for them: the pull ends within seconds of the holder coming,
// with most of the image from it.
func TestLANFastHolderTakesOverFromASlowSeeder(t *testing.T) {
	const mibs = 16
	n := newSeededLAN(t, mibs, 21)
	l, hs, hp, puller, ds := n.l, n.hs, n.hp, n.puller, n.ds
	hh := l.host("holder")
	holder := hh.repo(t)
	if cid := holder.push(randomLayout(t, mibs, 21)); cid != n.cid {
		t.Fatalf("the holder's push of the same layout is %s, the seeder's %s", cid, n.cid)
	}
	l.shape(hs, "2mbit")
	waitPeer(t, puller, ds.ID, "mdns", hs.IP)

	got := filepath.Join(t.TempDir(), "got.tar")
	base := rxBytes(t, hp)
	pull := puller.startBackground(nil, "pull", "--timeout", "2m", "-o", got, n.cid)
	// Blocks in flight from the seeder: 2 s of its link.
	waitUntil(t, "512 KiB from the slow seeder", 30*time.Second, pull, func() bool {
		return rxBytes(t, hp)-base >= 512<<10
	})
	dh := hh.daemon(holder)
	took := waitPulled(t, pull, time.Now(), "the holder came up", n.dp, n.want, got)
	if took > 20*time.Second {
		t.Errorf("the pull ended %v after the holder came up: it waited on the slow seeder for blocks the holder had", took.Round(100*time.Millisecond))
	}
	res := result{stderr: []byte(pull.logText())}
	fromSeeder, fromHolder := peerShare(t, res, ds.ID), peerShare(t, res, dh.ID)
	t.Logf("from the slow seeder %d KiB, from the holder %d KiB", fromSeeder>>10, fromHolder>>10)
	if fromHolder < n.image.localBytes/2 {
		t.Errorf("the holder gave %d KiB of a %d KiB image, the slow seeder %d KiB", fromHolder>>10, n.image.localBytes>>10, fromSeeder>>10)
	}
}
