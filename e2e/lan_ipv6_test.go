package e2e

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// lanSubnet6 is the IPv6-only LANs' prefix: unique-local (fd00::/8), the
// kind a factory network without IPv4 numbers itself with.
const lanSubnet6 = "fd00:213::"

// host6 adds a machine with only IPv6 on its LAN link: a unique-local
// address (no duplicate-address wait: nodad) and the link-local one the
// kernel gives every interface. No IPv4 but loopback.
func (l *lan) host6(name string) *lanHost {
	l.t.Helper()
	l.hosts++
	return l.bridged(name, fmt.Sprintf("%s%d", lanSubnet6, l.hosts), "/64", "nodad")
}

// TestLANIPv6Only: on a LAN with no IPv4 at all, peers find each other by
// mDNS (over IPv6 multicast), the gater lets unique-local addresses
// through, and a pull, one-shot and through a daemon, fetches the image
// from the peer that has it.
func TestLANIPv6Only(t *testing.T) {
	l := newLAN(t)
	ha, hb := l.host6("a"), l.host6("b")
	a, b := ha.repo(t), hb.repo(t)
	da := a.launchDaemon(addrWithPrefix("/ip6/"+ha.IP+"/tcp/"), "daemon", "--listen", "/ip6/"+ha.IP+"/tcp/4001")
	layout := randomLayout(t, 4, 66)
	cid := a.push(layout)
	want := filepath.Join(t.TempDir(), "want.tar")
	a.ok("pull", "-o", want, cid)

	got := filepath.Join(t.TempDir(), "one-shot.tar")
	res := b.ok("pull", "--timeout", "1m", "-o", got, cid)
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("the one-shot pull differs from A's image")
	}
	if share := peerShare(t, res, da.ID); share == 0 {
		t.Errorf("the one-shot pull credits nothing to A: %s", res.stderr)
	}

	b.launchDaemon(addrWithPrefix("/ip6/"+hb.IP+"/tcp/"), "daemon", "--listen", "/ip6/"+hb.IP+"/tcp/4001")
	waitPeer(t, b, da.ID, "mdns", ha.IP)
	b.ok("gc")
	got = filepath.Join(t.TempDir(), "daemon.tar")
	res = b.ok("pull", "--timeout", "1m", "-o", got, cid)
	if !bytes.Equal(readFile(t, want), readFile(t, got)) {
		t.Errorf("the pull through B's daemon differs from A's image")
	}
	if share := peerShare(t, res, da.ID); share == 0 {
		t.Errorf("the pull through B's daemon, after gc, credits nothing to A: %s", res.stderr)
	}
}
