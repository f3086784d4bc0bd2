package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLANPullerRestartedResumes: a daemon pulling from a seeder it found
// by mDNS is SIGKILLed mid-pull (a crash, an OOM kill, a power cut of the
// process) and started again on the same repo. The pull run again through
// it finishes, fetches only the blocks the dead daemon had not stored (its
// summary counts the others as already local, and the wire carries no
// more than the rest), writes the seeder's image, and the repo verifies
// clean.
func TestLANPullerRestartedResumes(t *testing.T) {
	n := newSeededLAN(t, 32, 12)
	l, hs, hp, puller, cid, want, image, ds, dp := n.l, n.hs, n.hp, n.puller, n.cid, n.want, n.image, n.ds, n.dp
	// 32 MiB at 5 MB/s: the daemon is killed with a quarter of it stored.
	l.shape(hs, "40mbit")
	waitPeer(t, puller, ds.ID, "mdns", hs.IP)

	stored := puller.dir // packs and badger alike
	before := allocatedBytes(stored)
	got := filepath.Join(t.TempDir(), "got.tar")
	first := puller.startBackground(nil, "pull", "--timeout", "1m", "-o", got, cid)
	waitUntil(t, "8 MiB stored by the puller's daemon", time.Minute, first, func() bool { return allocatedBytes(stored)-before > 8<<20 })
	kill9(t, &bgProc{name: "puller's daemon", cmd: dp.cmd, exited: dp.exited})
	select {
	case <-first.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the pull still runs 30 s after its daemon was killed; its log:\n%s", first.logText())
	}
	if first.err == nil {
		t.Fatalf("the pull succeeded though its daemon was killed: %s", first.logText())
	}
	// The client lived on: it removes its own temp file.
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(got), ".got.tar.partial-*")); len(left) > 0 {
		t.Errorf("the pull whose daemon died left %v", left)
	}
	if _, err := os.Stat(got); err == nil {
		t.Errorf("the pull whose daemon died wrote %s", got)
	}

	// Pulled again as soon as the daemon is up, before mDNS may have
	// found the seeder again: what a user retrying at once does.
	hp.daemon(puller)
	base := rxBytes(t, hp)
	res := puller.ok("pull", "--timeout", "1m", "-o", got, cid)
	wire := rxBytes(t, hp) - base
	s := parseSummary(t, res)
	t.Logf("first pull, daemon killed: %s", first.logText())
	t.Logf("after the restart: %s; %d KiB on the wire", s.line, wire>>10)
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("the resumed pull wrote something else than the seeder's image")
	}
	if s.localBytes < 4<<20 {
		t.Errorf("the resumed pull found %d KiB already local; the killed daemon had stored over 8 MiB", s.localBytes>>10)
	}
	if s.fetchedBlocks+s.localBlks != image.localBlks {
		t.Errorf("the resumed pull fetched %d blocks and found %d local; the image has %d", s.fetchedBlocks, s.localBlks, image.localBlks)
	}
	// Only what was missing crossed the wire, give or take headers and
	// the peers' chatter.
	if bound := s.fetchedBytes + s.fetchedBytes/20 + 1<<20; wire > bound {
		t.Errorf("%d KiB reached the puller for %d KiB fetched: blocks came twice", wire>>10, s.fetchedBytes>>10)
	}
	wantVerifyClean(t, puller)
}
