package e2e

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPublicKeepsLANRecordsOffTheInternet: a --public daemon A that is
// also on a private LAN holds its LAN neighbours' provider records (it is
// a server of their LAN DHT). Those say which machine of the LAN holds
// which image; the Internet must not get them from A. D, a LAN-mode
// daemon on A's private segment, pushes an image and stops; A restarts
// (kad-dht writes the records it holds to the repo 256 at a time and at
// close, and reads them back from there). A still knows D provides it
// (A's providers lists D, whose daemon is gone), yet a Kubo DHT server K
// on the public side, asking the Amino DHT, where A answers, is never
// told D. Before, one datastore served both DHTs, and K was. The control:
// K is told A for A's own image.
func TestPublicKeepsLANRecordsOffTheInternet(t *testing.T) {
	needKubo(t)
	pn := newPublicNet(t)
	hk, ha := pn.publicHost("kubo"), pn.publicHost("a")
	hd := pn.lanOnlyHost("d")
	aLAN, _ := pn.privateLink(ha, hd, 1)
	k := newPublicKubo(t, hk)
	k.startDaemon()

	a := ha.repo(t)
	a.setBootstrap(k.Addr)
	own := a.push(randomLayout(t, 1, 61))
	da := ha.daemonAt(a, []string{ha.IP, aLAN}, "--public", "--mdns=false")
	d := hd.repo(t)
	dd := hd.daemonAt(d, []string{hd.IP}, "--mdns=false", "--peer", "/ip4/"+aLAN+"/tcp/4001/p2p/"+da.ID)
	secret := d.push(randomLayout(t, 1, 62))
	waitProviders(t, a, secret, dd.ID)
	dd.stop(t)
	da.stop(t)

	da = ha.daemonAt(a, []string{ha.IP, aLAN}, "--public", "--mdns=false")
	waitProviders(t, a, secret, dd.ID) // from A's own records: D is gone
	k.ok("swarm", "connect", "/ip4/"+ha.IP+"/tcp/4001/p2p/"+da.ID)
	k.waitProvider(own, da.ID, 1)
	// K asks A's Amino DHT only once A serves it (AutoNAT found A
	// reachable): before that, no answer from K would mean anything.
	waitKadServer(t, k, da.ID)
	res := k.run("--timeout=10s", "routing", "findprovs", "-n", "5", secret)
	if found := trimmedLines(res.stdout); slices.Contains(found, dd.ID) {
		t.Errorf("K, on the public network, was told that LAN host D provides %s: %v", secret, found)
	}
}

// waitKadServer waits until Kubo k sees peer id offer the Amino DHT
// protocol, and fails the test after a minute.
func waitKadServer(t *testing.T, k *lanKubo, id string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var info struct{ Protocols []string }
		res := k.run("id", id)
		if res.code == 0 && json.Unmarshal(res.stdout, &info) == nil && slices.Contains(info.Protocols, "/ipfs/kad/1.0.0") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("A never offered /ipfs/kad/1.0.0 to K within a minute: %v", strings.TrimSpace(string(res.stdout)))
		}
		time.Sleep(200 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}
