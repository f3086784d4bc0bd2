package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
)

// A LAN for one test: a namespace holding a bridge, and one namespace per
// host joined to it by a veth pair. Addresses exist only inside these
// namespaces, on a /24 with no default route, so whatever a node sends
// (mDNS, DHT queries, dials to announced addresses) stays on this LAN. Each
// LAN is its own set of namespaces, so every LAN may reuse the same subnet.
const lanSubnet = "10.213.0" // hosts are .1, .2, ...

var (
	lanSeq atomic.Int64
	// liveNamespaces are the namespaces tests made and have not deleted
	// yet, for the interrupt handler: t.Cleanup does not run on Ctrl-C.
	liveNamespaces sync.Map
)

// deleteLiveNamespaces removes what an interrupted run left behind.
func deleteLiveNamespaces() {
	liveNamespaces.Range(func(ns, _ any) bool {
		exec.Command("ip", "netns", "delete", ns.(string)).Run()
		return true
	})
}

type lan struct {
	t      *testing.T
	prefix string // every namespace of this LAN is named prefix-something
	bridge string // the namespace holding br0
	hosts  int
}

// lanHost is one machine on a LAN: a namespace with lo and eth0 at IP.
type lanHost struct {
	ns   string
	IP   string // "" for a loopback-only host
	port string // its veth's other end, in the bridge's namespace
}

// newLAN makes the bridge namespace; hosts join it with host.
func newLAN(t *testing.T) *lan {
	t.Helper()
	l := newHub(t, "lan", "br")
	// Snooping off: br0 floods multicast to every port like a dumb switch,
	// whatever IGMP/MLD state it would otherwise learn, so mDNS always
	// crosses. STP is off by default, so ports forward at once.
	l.ip(l.bridge, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	l.ip(l.bridge, "link", "set", "br0", "up")
	return l
}

// newHub makes the namespace every host of a test network joins (a
// bridge's or a router's), its name and theirs starting
// imgp2p-KIND-PID-N.
func newHub(t *testing.T, kind, hub string) *lan {
	t.Helper()
	need(t, "network namespace", netnsErr)
	prefix := fmt.Sprintf("imgp2p-%s-%d-%d", kind, os.Getpid(), lanSeq.Add(1))
	l := &lan{t: t, prefix: prefix, bridge: prefix + "-" + hub}
	l.addNamespace(l.bridge)
	return l
}

// addNamespace creates ns with lo up and deletes it when the test ends,
// failed or not. Deleting a namespace deletes its interfaces too.
func (l *lan) addNamespace(ns string) {
	l.t.Helper()
	if msg, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		need(l.t, "network namespaces (root and iproute2)", fmt.Errorf("ip netns add %s: %v: %s", ns, err, msg))
	}
	liveNamespaces.Store(ns, true)
	l.t.Cleanup(func() {
		if msg, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			l.t.Errorf("ip netns delete %s: %v: %s", ns, err, msg)
		}
		liveNamespaces.Delete(ns)
	})
	l.ip(ns, "link", "set", "lo", "up")
}

// ip runs `ip -n ns args...` and fails the test if it fails.
func (l *lan) ip(ns string, args ...string) {
	l.t.Helper()
	argv := append([]string{"-n", ns}, args...)
	if msg, err := exec.Command("ip", argv...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %v: %v: %s", argv, err, msg)
	}
}

// host adds a machine to the LAN. Its eth0 is created inside its own
// namespace and its peer inside the bridge's, so no interface ever appears
// in the host's root namespace.
func (l *lan) host(name string) *lanHost {
	l.t.Helper()
	l.hosts++
	return l.bridged(name, fmt.Sprintf("%s.%d", lanSubnet, l.hosts), "/24")
}

// bridged adds host name on the bridge with address ip/bits on its eth0
// (addrFlags added to `ip addr add`).
func (l *lan) bridged(name, ip, bits string, addrFlags ...string) *lanHost {
	l.t.Helper()
	h := &lanHost{ns: l.prefix + "-" + name, IP: ip}
	l.addNamespace(h.ns)
	h.port = fmt.Sprintf("v%d", l.hosts)
	l.ip(h.ns, "link", "add", "eth0", "type", "veth", "peer", "name", h.port, "netns", l.bridge)
	l.ip(l.bridge, "link", "set", h.port, "master", "br0", "up")
	l.ip(h.ns, append([]string{"addr", "add", h.IP + bits, "dev", "eth0"}, addrFlags...)...)
	l.ip(h.ns, "link", "set", "eth0", "up")
	return h
}

// loopbackHost is a machine with no network interface but lo: no LAN, no
// multicast.
func (l *lan) loopbackHost(name string) *lanHost {
	l.t.Helper()
	h := &lanHost{ns: l.prefix + "-" + name}
	l.addNamespace(h.ns)
	return h
}

// repo is a fresh imgp2p repo whose commands run on h.
func (h *lanHost) repo(t testing.TB) *repo {
	t.Helper()
	r := newRepo(t)
	r.netns = h.ns
	return r
}

// daemon starts `imgp2p daemon` for r on h, listening only on h's LAN
// address, and returns once it reports that address.
func (h *lanHost) daemon(r *repo, args ...string) *daemon {
	r.t.Helper()
	return r.launchDaemon(addrWithPrefix("/ip4/"+h.IP+"/tcp/"),
		append([]string{"daemon", "--listen", "/ip4/" + h.IP + "/tcp/4001"}, args...)...)
}
