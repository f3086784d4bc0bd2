package e2e

import (
	"strings"
	"testing"
)

// TestPublicAnnouncesOnLANToo: a --public daemon on a LAN as well as on the
// Internet announces what it holds on both DHTs, whichever has peers first.
// A is on the public network, with Kubo DHT server K as its bootstrap
// peer, and on a private segment with D, a LAN-mode daemon that dials A
// (mDNS is off everywhere). E, on another segment behind D and knowing only
// D, cannot reach A: when its `providers` names A, the record came from
// D's LAN DHT, where only A's announcement can have put it. K only answers
// from records A sent it (public_test.go).
//
// K starts after A has announced an image on its LAN: that image must
// still reach the Amino DHT once K is there. And an image pushed once both
// DHTs have peers must reach both.
func TestPublicAnnouncesOnLANToo(t *testing.T) {
	needKubo(t)
	pn := newPublicNet(t)
	hk, ha := pn.publicHost("kubo"), pn.publicHost("a")
	hd, he := pn.lanOnlyHost("d"), pn.lanOnlyHost("e")
	aLAN, _ := pn.privateLink(ha, hd, 1)
	dE, _ := pn.privateLink(hd, he, 2)
	k := newPublicKubo(t, hk)
	kID := strings.TrimSpace(string(k.k.ok("config", "Identity.PeerID").stdout))

	a := ha.repo(t)
	// Nothing listens there yet: A's bootstrap dial is refused at once.
	a.setBootstrap("/ip4/" + hk.IP + "/tcp/4001/p2p/" + kID)
	first := a.push(randomLayout(t, 1, 50))
	da := ha.daemonAt(a, []string{ha.IP, aLAN}, "--public", "--mdns=false")
	d := hd.repo(t)
	dd := hd.daemonAt(d, []string{hd.IP, dE}, "--mdns=false", "--peer", "/ip4/"+aLAN+"/tcp/4001/p2p/"+da.ID)
	e := he.repo(t)
	he.daemon(e, "--mdns=false", "--peer", "/ip4/"+dE+"/tcp/4001/p2p/"+dd.ID)
	waitProviders(t, e, first, da.ID)

	k.startDaemon()
	k.ok("swarm", "connect", "/ip4/"+ha.IP+"/tcp/4001/p2p/"+da.ID)
	k.waitProvider(first, da.ID, 1)

	second := a.push(randomLayout(t, 1, 51))
	waitProviders(t, e, second, da.ID)
	k.waitProvider(second, da.ID, 1)
}
