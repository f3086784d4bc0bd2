package e2e

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestLANTimings measures what the issue asks to report: how long a fresh
// node's pull of a tiny image takes when it must first find the provider by
// mDNS (start of the process to the image written), and how long a pull
// takes to fail when nobody provides the CID. Bounds are loose; the numbers
// go to the log.
func TestLANTimings(t *testing.T) {
	l := newLAN(t)
	ha, hb := l.host("a"), l.host("b")
	a := ha.repo(t)
	ha.daemon(a)
	cid := a.push(helloLayout(t))

	const runs = 5
	var took []time.Duration
	for i := range runs {
		res := hb.repo(t).ok("pull", "--timeout", "1m", "-o", filepath.Join(t.TempDir(), fmt.Sprint(i)+".tar"), cid)
		if n := summaryPeers(t, res); n != "1" {
			t.Errorf("run %d fetched from %s peer(s), want 1: %v", i, n, res)
		}
		took = append(took, res.elapsed)
	}
	slices.Sort(took)
	median := took[runs/2]
	if median > 20*time.Second {
		t.Errorf("median mDNS discovery-to-image %v (runs %v)", median, took)
	}

	// A is on the LAN and answers, but nobody has this CID.
	missing := unknownCID()
	res := hb.repo(t).fails("pull", "--timeout", "3s", "-o", filepath.Join(t.TempDir(), "missing.tar"), missing)
	for _, want := range []string{"waiting for " + missing, "no peer provided it within 3s"} {
		if !bytes.Contains(res.stderr, []byte(want)) {
			t.Errorf("pull of a missing CID: stderr lacks %q: %v", want, res)
		}
	}
	if res.elapsed < 3*time.Second || res.elapsed > 20*time.Second {
		t.Errorf("pull --timeout 3s failed after %v", res.elapsed)
	}
	t.Logf("LAN numbers: fresh pull of a tiny image by mDNS, process start to image written: median %v of %d (sorted: %v); "+
		"pull --timeout 3s of a CID nobody has fails after %v",
		median.Round(time.Millisecond), runs, roundAll(took), res.elapsed.Round(time.Millisecond))
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
