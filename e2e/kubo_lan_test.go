package e2e

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

// TestKuboLANMDNS (issue 3, interop): on a namespace LAN, an imgp2p daemon
// in its default mode and a Kubo daemon with mDNS on find each other with no
// address given to either. Kubo then `ipfs get`s an image from imgp2p (a
// valid OCI layout, every blob byte-identical), imgp2p's `peers` lists Kubo
// as found by mdns, and the other way round an image only Kubo holds is
// pulled by a fresh imgp2p (found by mDNS alone) and by the daemon.
func TestKuboLANMDNS(t *testing.T) {
	needKubo(t)
	l := newLAN(t)
	hi, hk := l.host("imgp2p"), l.host("kubo")
	a := hi.repo(t)
	da := hi.daemon(a) // lan mode and mDNS are the defaults: no flags
	src := helloLayout(t)
	cid := a.push(src)

	k := newLANKubo(t, hk)
	k.startDaemon()
	waited := k.waitSwarmPeer(da.ID, hi.IP)
	t.Logf("Kubo listed the imgp2p daemon in swarm peers %v after its API answered", waited.Round(time.Millisecond))
	start := time.Now()
	waitPeer(t, a, k.ID, "mdns", hk.IP)
	t.Logf("imgp2p's peers listed Kubo as found by mdns %v later", time.Since(start).Round(time.Millisecond))
	// Who dialed whom is a race between the two mDNS services; either way
	// nobody was given an address. The log says which it was.
	t.Logf("ipfs swarm peers --direction:\n%s", k.ok("swarm", "peers", "--direction").stdout)

	out := filepath.Join(t.TempDir(), "from-imgp2p")
	get := k.ok("get", "--progress=false", "-o", out, cid)
	t.Logf("ipfs get of imgp2p's image took %v", get.elapsed.Round(time.Millisecond))
	sameLayout(t, out, src)
	onlyLayoutFiles(t, out)
	validLayout(t, out)

	// Kubo → imgp2p: an image only Kubo holds, added under unixfs-v1-2025
	// (newKubo's import profile). First a fresh imgp2p on a third host, no
	// daemon and no --peer, pulls it: its mDNS must find Kubo by itself.
	// Then the daemon that found Kubo above pulls it too.
	// (Not the multi image: its amd64 half is the hello image the daemon
	// holds, and would rightly come from there too.)
	only := randomLayout(t, 3, 5)
	kcid := strings.TrimSpace(string(k.ok("add", "-r", "--hidden", "--progress=false", "-Q", only).stdout))
	c := l.host("c").repo(t)
	for _, r := range []*repo{c, a} {
		got := filepath.Join(t.TempDir(), "from-kubo")
		res := r.run(nil, "pull", "--timeout", "2m", "--format", "oci", "-o", got, kcid)
		if res.code != 0 {
			t.Fatalf("imgp2p pull of Kubo's root %s: %v%s", kcid, res, k.daemonLog())
		}
		t.Logf("imgp2p pull of Kubo's image took %v", res.elapsed.Round(time.Millisecond))
		fetchedFromKubo(t, res, k.ID)
		sameLayout(t, got, only)
	}
}

// validLayout reads the layout at dir with go-containerregistry and checks
// every image it reaches: manifests parse, and every blob matches its
// digest and size.
func validLayout(t *testing.T, dir string) {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatalf("reading %s as an OCI layout: %v", dir, err)
	}
	if err := validate.Index(idx); err != nil {
		t.Errorf("layout %s is not a valid OCI layout: %v", dir, err)
	}
}
