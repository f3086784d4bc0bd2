package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Private segments beside the public network (public_helpers_test.go): a
// machine there is on a home or office LAN and, maybe, on the Internet too.

// lanOnlyHost adds a namespace with no interface but lo; privateLink
// gives it its addresses.
func (l *lan) lanOnlyHost(name string) *lanHost {
	l.t.Helper()
	h := &lanHost{ns: l.prefix + "-" + name}
	l.addNamespace(h.ns)
	return h
}

// privateLink joins a and b by a veth pair on 10.213.n.0/24 (a at .1, b at
// .2), a segment with no router and so no way off it: a LAN between two
// machines. A host's IP becomes its first private address if it had none.
// It returns both addresses.
func (l *lan) privateLink(a, b *lanHost, n int) (ipA, ipB string) {
	l.t.Helper()
	subnet := fmt.Sprintf("10.213.%d", n)
	ipA, ipB = subnet+".1", subnet+".2"
	dev := fmt.Sprintf("lan%d", n)
	l.ip(a.ns, "link", "add", dev, "type", "veth", "peer", "name", dev, "netns", b.ns)
	for _, e := range []struct {
		h  *lanHost
		ip string
	}{{a, ipA}, {b, ipB}} {
		l.ip(e.h.ns, "addr", "add", e.ip+"/24", "dev", dev)
		l.ip(e.h.ns, "link", "set", dev, "up")
		if e.h.IP == "" {
			e.h.IP = e.ip
		}
		l.noWayOut(e.h.ns)
	}
	return ipA, ipB
}

// daemonAt starts `imgp2p daemon` for r on h listening on TCP port 4001
// of each of ips, and returns once it reports the first.
func (h *lanHost) daemonAt(r *repo, ips []string, args ...string) *daemon {
	r.t.Helper()
	argv := []string{"daemon"}
	for _, ip := range ips {
		argv = append(argv, "--listen", "/ip4/"+ip+"/tcp/4001")
	}
	return r.launchDaemon(addrWithPrefix("/ip4/"+ips[0]+"/tcp/"), append(argv, args...)...)
}

// waitProviders polls r's `imgp2p providers` (through its daemon) until
// it lists id as a provider of cid, and fails the test after 30s.
func waitProviders(t *testing.T, r *repo, cid, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last result
	for {
		last = r.ok("providers", "--timeout", "5s", cid)
		for _, l := range trimmedLines(last.stdout) {
			if f := strings.Fields(l); len(f) > 0 && f[0] == id {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("providers never listed %s for %s within 30s; last: %v", id, cid, last)
		}
		time.Sleep(200 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}
