package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Reaching into network namespaces from the test process itself.

// inNamespaceThread runs f on a fresh OS thread moved into namespace ns
// (onHost or "": the test's own). A socket belongs to the namespace it is
// created in, so a connection or listener f opens stays there and may be
// used from any goroutine afterwards. The thread is never moved back: it
// stays locked and exits with its goroutine, so no other goroutine ever
// runs in ns.
func inNamespaceThread(ns string, f func()) error {
	if ns == "" || ns == onHost {
		f()
		return nil
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		h, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			errc <- err
			return
		}
		defer h.Close()
		if err := unix.Setns(int(h.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns into %s: %w", ns, err)
			return
		}
		f()
		errc <- nil
	}()
	return <-errc
}

// dialIn opens a connection from inside namespace ns.
func dialIn(ctx context.Context, ns, network, addr string) (net.Conn, error) {
	var c net.Conn
	var err error
	if nerr := inNamespaceThread(ns, func() { c, err = (&net.Dialer{}).DialContext(ctx, network, addr) }); nerr != nil {
		return nil, nerr
	}
	return c, err
}

// listenIn opens a listener inside namespace ns.
func listenIn(ns, addr string) (net.Listener, error) {
	var ln net.Listener
	var err error
	if nerr := inNamespaceThread(ns, func() { ln, err = net.Listen("tcp", addr) }); nerr != nil {
		return nil, nerr
	}
	return ln, err
}

// nsHTTPClient is an HTTP client whose connections start in namespace ns.
// No compression, so bodies arrive as the server sent them.
func nsHTTPClient(ns string) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialIn(ctx, ns, network, addr)
		},
		DisableCompression:  true,
		MaxIdleConnsPerHost: 128,
	}}
}

var pickedPorts sync.Map // int → true: never hand out a port twice in one run

// freePort picks a TCP port free on 127.0.0.1 in namespace ns. Ports come
// from below the kernel's ephemeral range, so no outgoing connection (a
// libp2p dial, say) can take one between this check and the gateway's bind.
func freePort(t testing.TB, ns string) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil && n > 11000 {
				low = n
			}
		}
	}
	for range 200 {
		p := low - 10000 + rand.IntN(10000)
		if _, dup := pickedPorts.LoadOrStore(p, true); dup {
			continue
		}
		ln, err := listenIn(ns, fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		ln.Close()
		return p
	}
	t.Fatal("no free TCP port found on 127.0.0.1")
	return 0
}

var nsSeq atomic.Int64

// newLoopbackNamespace makes a namespace of the test's own holding only an
// up loopback interface, so traffic counters on it see this test alone.
func newLoopbackNamespace(t testing.TB) string {
	t.Helper()
	need(t, "network namespace", netnsErr)
	name := fmt.Sprintf("imgp2p-gw-%d-%d", os.Getpid(), nsSeq.Add(1))
	if msg, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", name, err, msg)
	}
	liveNamespaces.Store(name, true)
	t.Cleanup(func() {
		exec.Command("ip", "netns", "delete", name).Run()
		liveNamespaces.Delete(name)
	})
	if msg, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("bringing up lo in %s: %v: %s", name, err, msg)
	}
	return name
}

// loTxBytes is how many bytes have crossed loopback in namespace ns. On lo
// every packet is sent once and received once, so tx counts each byte once.
func loTxBytes(t testing.TB, ns string) int64 {
	t.Helper()
	out, err := exec.Command("ip", "-j", "-s", "-n", ns, "link", "show", "dev", "lo").Output()
	if err != nil {
		t.Fatalf("ip -s link show lo in %s: %v", ns, err)
	}
	var links []struct {
		Stats64 struct {
			TX struct {
				Bytes int64 `json:"bytes"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal(out, &links); err != nil || len(links) != 1 {
		t.Fatalf("ip -j -s link show lo: %v: %s", err, out)
	}
	return links[0].Stats64.TX.Bytes
}
