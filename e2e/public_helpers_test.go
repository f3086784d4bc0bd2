package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// A "public" network for --public tests: one namespace per host, each on
// a /24 of its own, joined by a router namespace, at addresses libp2p counts
// as public. Two things keep the LAN DHT out, so that only the Amino DHT
// (the WAN half of the dual DHT) can find anyone:
//   - it admits only private addresses, or public ones reached without a
//     gateway (kad-dht's PrivateRoutingTableFilter asks the routing table):
//     hosts on one bridge would all be "LAN" to it, hence the router;
//   - the Amino DHT admits only public addresses, hence not 10.x.
//
// Why 11.0.0.0/16 is safe: the addresses exist only inside the test's own
// namespaces, which have no link to the root namespace, and no namespace
// has a default route: a host routes only its /24 and 11.0.0.0/16 through
// the router, which routes only its hosts' /24s (sealed checks all this).
// A packet for any other address fails in the kernel with "network
// unreachable", so nothing can reach the real 11.0.0.0/8 or anything else.
// The documentation ranges (192.0.2.0/24 and the like) would be tidier,
// but manet counts them unroutable, and the Amino DHT refuses them.
const publicNet = "11.0"

// newPublicNet makes the router; hosts join with publicHost. It is a lan
// whose bridge namespace routes instead of bridging, so unplug and plug
// work on its hosts as on a LAN's.
func newPublicNet(t *testing.T) *lan {
	t.Helper()
	l := newHub(t, "pub", "rt")
	runIn(t, l.bridge, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	return l
}

// publicHost adds a host on a /24 of its own, its router port at .254.
func (l *lan) publicHost(name string) *lanHost {
	l.t.Helper()
	l.hosts++
	subnet := fmt.Sprintf("%s.%d", publicNet, l.hosts)
	h := &lanHost{ns: l.prefix + "-" + name, IP: subnet + ".1", port: fmt.Sprintf("v%d", l.hosts)}
	l.addNamespace(h.ns)
	l.ip(h.ns, "link", "add", "eth0", "type", "veth", "peer", "name", h.port, "netns", l.bridge)
	l.ip(l.bridge, "addr", "add", subnet+".254/24", "dev", h.port)
	l.ip(l.bridge, "link", "set", h.port, "up")
	l.ip(h.ns, "addr", "add", h.IP+"/24", "dev", "eth0")
	l.ip(h.ns, "link", "set", "eth0", "up")
	l.ip(h.ns, "route", "add", publicNet+".0.0/16", "via", subnet+".254")
	l.sealed(h)
	return h
}

// sealed checks what the test's safety and meaning rest on: h's address is
// public to libp2p, h reaches the other hosts only through the router,
// and neither h nor the router can reach anything outside the test's
// network, over IPv4 or IPv6.
func (l *lan) sealed(h *lanHost) {
	l.t.Helper()
	if a := ma.StringCast("/ip4/" + h.IP + "/tcp/4001"); !manet.IsPublicAddr(a) {
		l.t.Fatalf("%s is not a public address to libp2p: the Amino DHT would refuse it", a)
	}
	other := publicNet + ".250.1" // on no host's /24
	if route := runIn(l.t, h.ns, "ip", "route", "get", other).stdout; !bytes.Contains(route, []byte(" via ")) {
		l.t.Fatalf("%s reaches %s without a gateway, so the LAN DHT would admit it: %s", h.ns, other, route)
	}
	l.noWayOut(h.ns)
	l.noWayOut(l.bridge)
}

// noWayOut fails the test if ns has a route to the real Internet (a
// public DNS server's addresses, one per family).
func (l *lan) noWayOut(ns string) {
	l.t.Helper()
	for _, dst := range []string{"1.1.1.1", "2606:4700:4700::1111"} {
		argv := inNamespace(ns, "ip", "route", "get", dst)
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err == nil {
			l.t.Fatalf("%s has a route to %s, so packets could leave the test's network: %s", ns, dst, out)
		}
	}
}

// setBootstrap creates r's repo if need be and sets Bootstrap in its
// config.json to peers alone. An empty Bootstrap means Kubo's public
// bootstrap peers, on the real Internet, so it is refused here.
func (r *repo) setBootstrap(peers ...string) {
	r.t.Helper()
	if len(peers) == 0 {
		r.t.Fatal("test harness: an empty Bootstrap means the public bootstrap peers")
	}
	r.ok("ls") // creates the repo and its default config
	path := filepath.Join(r.dir, "config.json")
	var cfg map[string]any
	if err := json.Unmarshal(readFile(r.t, path), &cfg); err != nil {
		r.t.Fatalf("%s: %v", path, err)
	}
	cfg["Bootstrap"] = peers
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		r.t.Fatal(err)
	}
}

// newPublicKubo is a Kubo node on h as a public DHT server: it answers the
// Amino DHT (/ipfs/kad/1.0.0) whatever AutoNAT thinks, so imgp2p nodes
// whose WAN DHT stays a client still have a server to announce to and ask.
// No mDNS, no bootstrap peers (newKubo checks), no delegated routers (the
// test profile): it learns peers only from those that dial it.
func newPublicKubo(t *testing.T, h *lanHost) *lanKubo {
	t.Helper()
	k := newLANKubo(t, h)
	k.k.ok("config", "--json", "Discovery.MDNS.Enabled", "false")
	k.k.ok("config", "Routing.Type", "dhtserver")
	return k
}

// waitProvider polls Kubo's `ipfs routing findprovs` until it lists id as
// a provider of cid, and fails the test after a minute. The lookup stops
// at n providers (Kubo's own records come first) or after 10s.
func (lk *lanKubo) waitProvider(cid, id string, n int) time.Duration {
	lk.t.Helper()
	start := time.Now()
	deadline := start.Add(time.Minute)
	var last result
	for {
		// A lookup that times out is only "not yet": what it found is on
		// stdout all the same.
		last = lk.run("--timeout=10s", "routing", "findprovs", "-n", strconv.Itoa(n), cid)
		for _, p := range trimmedLines(last.stdout) {
			if p == id {
				return time.Since(start)
			}
		}
		if time.Now().After(deadline) {
			lk.t.Fatalf("Kubo's findprovs never listed %s as a provider of %s within a minute; last: %v%s", id, cid, last, lk.daemonLog())
		}
		time.Sleep(200 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}

// onlyTestPeers fails the test if any connection listed (one multiaddr
// each) is to an address outside the test's network.
func onlyTestPeers(t *testing.T, who string, addrs []string) {
	t.Helper()
	for _, a := range addrs {
		if !strings.HasPrefix(a, "/ip4/"+publicNet+".") {
			t.Errorf("%s is connected to %s, outside the test's network", who, a)
		}
	}
}
