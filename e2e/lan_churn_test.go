package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

// TestLANUnpluggedSeederReleasesItsWants: the seeder's cable is pulled
// in the middle of a pull, and a holder of the image joins the LAN just
// after. A vanished peer closes no connection, and bitswap kept every
// block it had asked of it waiting there (a want-block sent after a HAVE
// goes to no one else until that peer refuses or disconnects): the new
// holder went unused until the pull's stall watch redialed after 15 s of
// silence, the pull ending 22-23 s after the cut. The puller now pings a
// peer that owes it blocks and went silent, drops it when it does not
// answer, and says so; its wants move to the new holder.
//
// An empty daemon on the LAN makes the pull a swarm pull (several peers
// connected as it starts), where every block is asked of every peer.
func TestLANUnpluggedSeederReleasesItsWants(t *testing.T) {
	l := newLAN(t)
	hs, hx, hp, hh := l.host("seeder"), l.host("empty"), l.host("puller"), l.host("holder")
	seeder, puller, holder := hs.repo(t), hp.repo(t), hh.repo(t)
	layout := randomLayout(t, 32, 7)
	cid := seeder.push(layout)
	holder.push(layout)
	want := filepath.Join(t.TempDir(), "want.tar")
	seeder.ok("pull", "-o", want, cid)
	ds := hs.daemon(seeder)
	dx := hx.daemon(hx.repo(t))
	dp := hp.daemon(puller)
	// 32 MiB at 5 MB/s: the pull is under way for seconds.
	l.shape(hs, "40mbit")
	waitPeer(t, puller, ds.ID, "mdns", hs.IP)
	waitPeer(t, puller, dx.ID, "mdns", hx.IP)

	base := rxBytes(t, hp)
	got := filepath.Join(t.TempDir(), "got.tar")
	pull := puller.startBackground(nil, "pull", "--timeout", "2m", "-o", got, cid)
	waitUntil(t, "8 MiB at the puller", time.Minute, pull, func() bool { return rxBytes(t, hp)-base > 8<<20 })
	l.unplug(hs)
	cut := time.Now()
	dh := hh.daemon(holder)

	took := waitPulled(t, pull, cut, "the seeder's cable was pulled", dp, want, got)
	if !bytes.Contains([]byte(pull.logText()), []byte(dh.ID[len(dh.ID)-8:])) {
		t.Errorf("no bytes from the holder (%s) in the summary: %s", dh.ID, pull.logText())
	}
	log := readFile(t, dp.log)
	if !bytes.Contains(log, []byte("peer "+ds.ID+" stopped answering")) {
		t.Errorf("the puller's daemon never said the seeder stopped answering; its log:\n%s", log)
	}
	// Dropped 8-9 s after its last byte, then the holder's unshaped link
	// brings the rest at once; the stall watch would have waited 15 s.
	if took > 14*time.Second {
		t.Errorf("pull took %v after the seeder left, want under 14 s", took)
	}
}

// TestLANSeederBackAfterOutage: the seeder, the only holder, is off the
// LAN long enough for the puller to drop it as silent, then comes back.
// The puller dials it again by itself (mDNS may not report it for a
// minute) and the pull resumes from where it was.
func TestLANSeederBackAfterOutage(t *testing.T) {
	l := newLAN(t)
	hs, hp := l.host("seeder"), l.host("puller")
	seeder, puller := hs.repo(t), hp.repo(t)
	cid := seeder.push(randomLayout(t, 32, 8))
	want := filepath.Join(t.TempDir(), "want.tar")
	seeder.ok("pull", "-o", want, cid)
	ds := hs.daemon(seeder)
	dp := hp.daemon(puller)
	l.shape(hs, "40mbit")
	waitPeer(t, puller, ds.ID, "mdns", hs.IP)

	base := rxBytes(t, hp)
	got := filepath.Join(t.TempDir(), "got.tar")
	pull := puller.startBackground(nil, "pull", "--timeout", "2m", "-o", got, cid)
	waitUntil(t, "8 MiB at the puller", time.Minute, pull, func() bool { return rxBytes(t, hp)-base > 8<<20 })
	l.unplug(hs)
	cut := time.Now()
	dropped := []byte("peer " + ds.ID + " stopped answering")
	waitUntil(t, "the seeder dropped as silent", 30*time.Second, pull, func() bool {
		return bytes.Contains(readFile(t, dp.log), dropped)
	})
	l.plug(hs)
	back := time.Now()
	t.Logf("seeder dropped %v after its cable was pulled", back.Sub(cut).Round(100*time.Millisecond))

	took := waitPulled(t, pull, back, "the seeder came back", dp, want, got)
	if s := parseSummary(t, result{stderr: []byte(pull.logText())}); s.fetchedBlocks > 41 {
		t.Errorf("fetched %d blocks, more than the image's 41: %s", s.fetchedBlocks, s.line)
	}
	// Redialed within 8 s, then about 24 MiB at 5 MB/s.
	if took > 20*time.Second {
		t.Errorf("pull took %v after the seeder came back, want under 20 s; puller's daemon log:\n%s", took, readFile(t, dp.log))
	}
}
