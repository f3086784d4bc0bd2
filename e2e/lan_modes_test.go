package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// inetSockets lists every TCP, UDP and raw socket in namespace ns, in any
// state (ss -tuwan): one line per socket, "" for none.
func inetSockets(t *testing.T, ns string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "ss", "-H", "-tuwan").CombinedOutput()
	if err != nil {
		t.Fatalf("ss in %s: %v: %s", ns, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestLANOfflineDaemon: `daemon --offline` on a LAN host opens no TCP or
// UDP socket at all (not even mDNS's), says it is offline and still serves
// its repo over the API. A lan-mode daemon on the next host is the control
// that shows the socket check sees sockets.
func TestLANOfflineDaemon(t *testing.T) {
	l := newLAN(t)
	ho, hl := l.host("offline"), l.host("online")
	o, on := ho.repo(t), hl.repo(t)
	cid := o.push(helloLayout(t))
	o.launchDaemon(func(i idInfo) (string, bool) { return "", i.Mode == "offline" }, "daemon", "--offline")
	hl.daemon(on)

	info, res := o.id()
	if res.code != 0 || info.Mode != "offline" || len(info.Addresses) != 0 {
		t.Errorf("id of the offline daemon: want Mode offline and no addresses: %+v %v", info, res)
	}
	o.ok("pull", "-o", filepath.Join(t.TempDir(), "hello.tar"), cid)
	if socks := inetSockets(t, ho.ns); socks != "" {
		t.Errorf("offline daemon's namespace has sockets:\n%s", socks)
	}
	if socks := inetSockets(t, hl.ns); !strings.Contains(socks, hl.IP+":4001") {
		t.Errorf("control: lan daemon's namespace shows no socket on %s:4001:\n%s", hl.IP, socks)
	}
}

// TestLANLoopbackOnly: on a host whose only interface is lo, no interface
// can carry mDNS; a lan-mode daemon warns that discovery is off and works
// on, serving a pull from a second repo on the same host.
func TestLANLoopbackOnly(t *testing.T) {
	h := newLAN(t).loopbackHost("lo")
	a, b := h.repo(t), h.repo(t)
	d := a.launchDaemon(addrWithPrefix("/ip4/127.0.0.1/tcp/"), "daemon", "--listen", "/ip4/127.0.0.1/tcp/0")
	const warning = "warning: mDNS discovery off: no network interface supports multicast"
	if log := readFile(t, d.log); !bytes.Contains(log, []byte(warning)) {
		t.Errorf("daemon log lacks %q:\n%s", warning, log)
	}
	if info, res := a.id(); info.Mode != "lan" {
		t.Errorf("id: want Mode lan: %+v %v", info, res)
	}
	cid := a.push(helloLayout(t))
	res := b.ok("pull", "--peer", d.Addr, "--timeout", "1m", "-o", filepath.Join(t.TempDir(), "hello.tar"), cid)
	if !bytes.Contains(res.stderr, []byte(warning)) {
		t.Errorf("one-shot pull on a loopback-only host lacks the warning: %v", res)
	}
	if n := summaryPeers(t, res); n != "1" {
		t.Errorf("pull fetched from %s peer(s), want 1: %v", n, res)
	}
}
