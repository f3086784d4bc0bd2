package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Every process the bench starts runs in a network namespace the bench
// made: a loopback-only one for the single-machine sections, a bridged LAN
// for fan-out. Nothing they send can leave the machine, and every
// namespace is deleted when the bench ends (cleanup.go).

type netns struct{ name string }

// newNetns makes a namespace with lo up.
func newNetns(name string) *netns {
	if msg, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		fatalf("ip netns add %s (needs root and iproute2): %v: %s", name, err, msg)
	}
	n := &netns{name: name}
	if !trackNamespace(name) {
		exec.Command("ip", "netns", "delete", name).Run()
		fatalf("stopping")
	}
	n.ip("link", "set", "lo", "up")
	return n
}

// del deletes the namespace (and every interface in it). Its processes
// must have exited.
func (n *netns) del() {
	if msg, err := exec.Command("ip", "netns", "delete", n.name).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: ip netns delete %s: %v: %s", n.name, err, msg)
	}
	untrackNamespace(n.name)
}

// ip runs `ip -n NS args...`.
func (n *netns) ip(args ...string) {
	argv := append([]string{"-n", n.name}, args...)
	if msg, err := exec.Command("ip", argv...).CombinedOutput(); err != nil {
		fatalf("ip %s: %v: %s", strings.Join(argv, " "), err, msg)
	}
}

// wrap makes argv run inside the namespace.
func (n *netns) wrap(argv ...string) []string {
	return append([]string{"ip", "netns", "exec", n.name}, argv...)
}

// A LAN: one namespace holding a bridge, and one namespace per host joined
// to it by a veth pair, every address on lanSubnet with no route anywhere
// else. Both ends of each host's veth can be shaped, so a host's link is
// capped in each direction as a switch port would be.
const lanSubnet = "10.214.0" // hosts are .1, .2, …

type lan struct {
	prefix string
	bridge *netns
	hosts  []*lanHost
}

type lanHost struct {
	name string
	ns   *netns
	IP   string
	port string // the veth's end on the bridge
}

func newLAN(prefix string) *lan {
	l := &lan{prefix: prefix, bridge: newNetns(prefix + "-br")}
	// Snooping off: the bridge floods multicast to every port like a dumb
	// switch, so mDNS always crosses.
	l.bridge.ip("link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	l.bridge.ip("link", "set", "br0", "up")
	return l
}

// host adds a machine to the LAN. Its eth0 is made inside its own
// namespace and the peer end inside the bridge's: no interface ever
// appears in the root namespace.
func (l *lan) host(name string) *lanHost {
	i := len(l.hosts) + 1
	h := &lanHost{name: name, ns: newNetns(l.prefix + "-" + name), IP: fmt.Sprintf("%s.%d", lanSubnet, i), port: fmt.Sprintf("v%d", i)}
	h.ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", h.port, "netns", l.bridge.name)
	l.bridge.ip("link", "set", h.port, "master", "br0", "up")
	h.ns.ip("addr", "add", h.IP+"/24", "dev", "eth0")
	h.ns.ip("link", "set", "eth0", "up")
	l.hosts = append(l.hosts, h)
	return h
}

// shape caps both directions of every host's link with a token bucket:
// eth0's egress is what the host sends, the bridge port's egress what it
// receives. It fails the bench if the qdisc cannot be installed.
//
// The bucket must hold a whole TSO segment (64 KiB): tbf cuts a larger
// packet into MTU-sized ones in software, the work a real NIC does in
// hardware, and on two cores that per-packet work starves the processes
// measured (with a 4 KiB bucket and eight pullers, about 36% of both
// cores went to softirq). The rate is the same either way.
func (l *lan) shape(rate, burst string) string {
	qdisc := []string{"root", "tbf", "rate", rate, "burst", burst, "latency", "400ms"}
	for _, h := range l.hosts {
		for _, end := range []struct {
			ns  *netns
			dev string
		}{{h.ns, "eth0"}, {l.bridge, h.port}} {
			argv := end.ns.wrap(append([]string{"tc", "qdisc", "add", "dev", end.dev}, qdisc...)...)
			if msg, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				fatalf("%s: %v: %s\nthe tbf qdisc is not available here: shaping would have to move to user space", strings.Join(argv, " "), err, msg)
			}
			show := end.ns.wrap("tc", "qdisc", "show", "dev", end.dev)
			out, err := exec.Command(show[0], show[1:]...).Output()
			if err != nil || !strings.Contains(string(out), "tbf") {
				fatalf("tc qdisc show dev %s in %s: no tbf qdisc after adding one (%v): %s", end.dev, end.ns.name, err, out)
			}
		}
	}
	return "tc " + strings.Join(qdisc[1:], " ")
}

// traffic is what the host's eth0 has received and sent so far, in bytes
// on the wire (payload, headers and retransmissions).
func (h *lanHost) traffic() (rx, tx int64) {
	out, err := exec.Command("ip", "-n", h.ns.name, "-s", "-j", "link", "show", "dev", "eth0").Output()
	check(err, "reading eth0's counters in "+h.ns.name)
	var links []struct {
		Stats64 struct {
			RX struct{ Bytes int64 } `json:"rx"`
			TX struct{ Bytes int64 } `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		fatalf("ip -s -j link show dev eth0 in %s: %v: %s", h.ns.name, err, out)
	}
	return links[0].Stats64.RX.Bytes, links[0].Stats64.TX.Bytes
}
