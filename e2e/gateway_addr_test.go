package e2e

import (
	"bytes"
	"fmt"
	"testing"
)

// TestGatewayAddresses: a bare :PORT for the gateway means loopback, as it
// does for --metrics (Go alone binds every interface, and `--registry
// :5050` served the repo to the network with only a warning); an address
// that does reach other hosts gets that warning; a libp2p multiaddr,
// daemon --listen's form, is refused naming the flag that takes it (it was
// Go's "missing port in address").
func TestGatewayAddresses(t *testing.T) {
	r := newRepo(t)
	port := freePort(t, netns)
	d := r.startDaemon("--mdns=false", "--registry", fmt.Sprintf(":%d", port))
	g := &gateway{Host: fmt.Sprintf("127.0.0.1:%d", port), URL: fmt.Sprintf("http://127.0.0.1:%d", port), ns: netns, client: nsHTTPClient(netns)}
	if err := g.waitReady(nil); err != nil {
		t.Fatalf("gateway on :%d: %v\nlog:\n%s", port, err, readFile(t, d.log))
	}
	wantLoopbackListener(t, "daemon --registry :PORT", d.cmd.Process.Pid, port)
	log := readFile(t, d.log)
	if want := fmt.Sprintf("registry gateway: 127.0.0.1:%d ", port); !bytes.Contains(log, []byte(want)) || bytes.Contains(log, []byte("reachable from other hosts")) {
		t.Errorf("daemon --registry :%d: log should say %q and warn of nothing:\n%s", port, want, log)
	}

	open := newRepo(t)
	port = freePort(t, netns)
	d = open.startDaemon("--mdns=false", "--registry", fmt.Sprintf("0.0.0.0:%d", port))
	g = &gateway{Host: fmt.Sprintf("127.0.0.1:%d", port), URL: fmt.Sprintf("http://127.0.0.1:%d", port), ns: netns, client: nsHTTPClient(netns)}
	if err := g.waitReady(nil); err != nil {
		t.Fatalf("gateway on 0.0.0.0:%d: %v\nlog:\n%s", port, err, readFile(t, d.log))
	}
	if log := readFile(t, d.log); !bytes.Contains(log, []byte("warning: the registry gateway on 0.0.0.0:")) {
		t.Errorf("daemon --registry 0.0.0.0:%d does not warn that other hosts reach it:\n%s", port, log)
	}

	fresh := newRepo(t)
	for _, c := range []struct{ args []string }{
		{[]string{"serve", "--offline", "--listen", "/ip4/127.0.0.1/tcp/5050"}},
		{[]string{"daemon", "--offline", "--registry", "/ip4/127.0.0.1/tcp/5050"}},
	} {
		res := fresh.fails(c.args...)
		want := "a libp2p multiaddr goes to --listen"
		if c.args[0] == "serve" {
			want = "a libp2p multiaddr goes to --swarm-listen"
		}
		if !bytes.Contains(res.stderr, []byte("want HOST:PORT")) || !bytes.Contains(res.stderr, []byte(want)) {
			t.Errorf("%v: %v, want HOST:PORT asked for and %q", c.args, res, want)
		}
	}
}
