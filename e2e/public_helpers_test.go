package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// A "public" network for --public tests: a namespace LAN (lan_netns_test.go)
// whose addresses libp2p counts as public. The Amino DHT (the WAN half of
// the dual DHT) admits only peers at public addresses and the LAN DHT only
// peers at private ones, so on 10.x a test would prove the LAN DHT, and on
// these addresses only the Amino DHT can find anyone.
//
// Why 11.0.0.0/24 is safe: the addresses exist only inside the test's own
// namespaces, on a bridge with no link to the root namespace, and each
// namespace's only IPv4 route is this /24 (sealedHost checks it). A packet
// for any other address fails in the kernel with "network unreachable", so
// nothing can reach the real 11.0.0.0/8 or anything else. The documentation
// ranges (192.0.2.0/24 and the like) would be tidier, but manet counts them
// unroutable, and the Amino DHT refuses them like private ones.
const publicSubnet = "11.0.0"

// newPublicNet makes a LAN on publicSubnet; hosts join it with sealedHost.
func newPublicNet(t *testing.T) *lan {
	t.Helper()
	l := newLAN(t)
	l.subnet = publicSubnet
	return l
}

// sealedHost adds a host and checks what the test's safety rests on: its
// address is public to libp2p, and nothing but the test's /24 is
// reachable from it, over IPv4 or IPv6.
func (l *lan) sealedHost(name string) *lanHost {
	l.t.Helper()
	h := l.host(name)
	if a := ma.StringCast("/ip4/" + h.IP + "/tcp/4001"); !manet.IsPublicAddr(a) {
		l.t.Fatalf("%s is not a public address to libp2p: the Amino DHT would refuse it", a)
	}
	if routes := trimmedLines(runIn(l.t, h.ns, "ip", "-4", "route", "show").stdout); len(routes) != 1 || !strings.HasPrefix(routes[0], publicSubnet+".0/24 ") {
		l.t.Fatalf("%s: want one IPv4 route, to %s.0/24; got %q", h.ns, publicSubnet, routes)
	}
	// Addresses of the real Internet (a public DNS server), one per family.
	for _, dst := range []string{"1.1.1.1", "2606:4700:4700::1111"} {
		argv := inNamespace(h.ns, "ip", "route", "get", dst)
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err == nil {
			l.t.Fatalf("%s has a route to %s, so packets could leave the test's network: %s", h.ns, dst, out)
		}
	}
	return h
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
// a provider of cid, and fails the test after a minute.
func (lk *lanKubo) waitProvider(cid, id string) time.Duration {
	lk.t.Helper()
	start := time.Now()
	deadline := start.Add(time.Minute)
	var last result
	for {
		// --timeout bounds each lookup; a failed one is only "not yet".
		last = lk.run("--timeout=10s", "routing", "findprovs", cid)
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
		if !strings.HasPrefix(a, "/ip4/"+publicSubnet+".") {
			t.Errorf("%s is connected to %s, outside the test's network", who, a)
		}
	}
}
