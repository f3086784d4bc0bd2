package e2e

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seederRate is the link rate of the seeder in TestLANPartialHolder, in
// bytes per second (40 Mbit/s, less TCP's due).
const seederRate = 4.5e6

// TestLANPartialHolder: peer P holds part of an image (its daemon was
// killed half-way through pulling it, then started again, idle), seeder S
// holds all of it, and a fresh puller Q finds both by mDNS. Q asks every
// peer for every block, and P answers DONT_HAVE for what it lacks: Q's
// pull takes bytes from both and ends as soon as S's slow link has
// brought S's share, never waiting on P. Then, with S gone, a pull from P
// alone takes what P has and fails --timeout after P's last block, naming
// the layer it still lacks, and its daemon keeps P connected.
func TestLANPartialHolder(t *testing.T) {
	l := newLAN(t)
	hs, hp, hq := l.host("seeder"), l.host("partial"), l.host("puller")
	seeder, partial, puller := hs.repo(t), hp.repo(t), hq.repo(t)
	layout := randomLayout(t, 32, 13)
	cid := seeder.push(layout)
	want := filepath.Join(t.TempDir(), "want.tar")
	seeder.ok("pull", "-o", want, cid)
	ds := hs.daemon(seeder)
	// 5 MB/s from the seeder: P is stopped half-way, and what P holds
	// comes to Q far faster than the seeder could send it.
	l.shape(hs, "40mbit")

	dp := hp.daemon(partial)
	waitPeer(t, partial, ds.ID, "mdns", hs.IP)
	stored := partial.dir // packs and badger alike
	before := allocatedBytes(stored)
	half := partial.startBackground(nil, "pull", "--timeout", "1m", "-o", filepath.Join(t.TempDir(), "half.tar"), cid)
	waitUntil(t, "16 MiB stored by P", time.Minute, half, func() bool { return allocatedBytes(stored)-before > 16<<20 })
	kill9(t, &bgProc{name: "P's daemon", cmd: dp.cmd, exited: dp.exited})
	dp = hp.daemon(partial)

	dq := hq.daemon(puller)
	waitPeer(t, puller, ds.ID, "mdns", hs.IP)
	waitPeer(t, puller, dp.ID, "mdns", hp.IP)
	got := filepath.Join(t.TempDir(), "got.tar")
	res := puller.ok("pull", "--timeout", "1m", "-o", got, cid)
	fromS, fromP := peerShare(t, res, ds.ID), peerShare(t, res, dp.ID)
	t.Logf("Q's pull: %s", lastLine(res.stderr))
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("Q's pull differs from the seeder's image")
	}
	if fromS == 0 || fromP == 0 {
		t.Errorf("Q took %d KiB from S and %d KiB from P, want some from each: %v", fromS>>10, fromP>>10, res)
	}
	// S's share at S's rate, and a few seconds to start, plan and write:
	// a want left waiting on P for a block P lacks would add seconds.
	if bound := time.Duration(float64(fromS)/seederRate*float64(time.Second)) + 3*time.Second; res.elapsed > bound {
		t.Errorf("Q's pull took %v; S's %d KiB take %v at its rate: it waited on P", res.elapsed.Round(100*time.Millisecond),
			fromS>>10, (bound - 3*time.Second).Round(100*time.Millisecond))
	}
	if bytes.Contains(res.stderr, []byte("no data for")) {
		t.Errorf("Q's pull went silent long enough to redial: %s", res.stderr)
	}
	if log := readFile(t, dq.log); bytes.Contains(log, []byte("stopped answering")) {
		t.Errorf("Q's daemon dropped a peer as silent:\n%s", log)
	}

	// S leaves, and Q with it (it holds the whole image now).
	ds.stop(t)
	dq.stop(t)
	hl := l.host("late")
	late := hl.repo(t)
	hl.daemon(late)
	waitPeer(t, late, dp.ID, "mdns", hp.IP)
	const timeout = 5 * time.Second
	res = late.fails("pull", "--timeout", timeout.String(), "-o", filepath.Join(t.TempDir(), "late.tar"), cid)
	t.Logf("pull from P alone: failed after %v: %s", res.elapsed.Round(100*time.Millisecond), res.stderr)
	// P's part arrives within a second; then --timeout of silence.
	if res.elapsed < timeout || res.elapsed > timeout+5*time.Second {
		t.Errorf("pull --timeout %v from P alone failed after %v", timeout, res.elapsed)
	}
	layer := digests(t, layout).Layers[0].String()
	for _, want := range []string{"stalled", "from any of 1 connected peer(s)", "still missing 1 of 3 blobs: layer " + layer} {
		if !bytes.Contains(res.stderr, []byte(want)) {
			t.Errorf("pull from P alone: stderr lacks %q: %s", want, res.stderr)
		}
	}
	// The stall watch's redials did not leave the daemon without P.
	connected := false
	for _, p := range late.peers() {
		connected = connected || (p.ID == dp.ID && strings.Contains(p.Addrs, "/ip4/"+hp.IP+"/"))
	}
	if !connected {
		t.Errorf("after the failed pull, late's daemon is no longer connected to P: %+v", late.peers())
	}
}
