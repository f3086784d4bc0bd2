package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Where the registry gateway and its clients run.
//
// Every imgp2p process normally runs inside a loopback-only namespace, and a
// gateway there listens on that namespace's 127.0.0.1, which nothing on the
// host can reach. So:
//
//   - Clients the tests drive (Go's HTTP client, crane, skopeo, ctr) join
//     the gateway's namespace: the tools under `ip netns exec`, Go's client
//     through connections opened on a thread moved into it (dialIn). The
//     gateway stays in the namespace, online if the test wants, and may
//     fetch from peer daemons there: peer fetching is tested this way.
//   - dockerd cannot join: it is one long-lived host process (.ci/run starts
//     it) and does the pulling for `docker pull` and `FROM` itself, from the
//     host's loopback. Docker tests run `imgp2p serve --offline --mdns=false`
//     on the host's 127.0.0.1 instead. Offline means no libp2p host at all
//     (no DHT, no bootstrap, no mDNS), so the process sends no packets and
//     opens no socket but the gateway's listener and the connections
//     accepted on it, which gateway.onlyGatewaySockets checks. A forwarder
//     from the host into the namespace would also work but adds a moving
//     part to every docker test and no coverage: what docker exercises is
//     the registry API, and peer fetching is covered inside the namespace.
const onHost = "host" // a "namespace" argument meaning the host's own

// gateway is a running registry gateway (`imgp2p serve`, or a daemon with
// --registry) and an HTTP client placed to reach it.
type gateway struct {
	Host   string // "127.0.0.1:PORT", the registry part of image refs
	URL    string // "http://127.0.0.1:PORT"
	ns     string // namespace it listens in: a name, or onHost
	client *http.Client
	proc   *bgProc // nil when the gateway is a daemon the caller started
}

// Ref is the image reference "127.0.0.1:PORT/ipfs/<cid>".
func (g *gateway) Ref(cid string) string { return g.Host + "/ipfs/" + cid }

// nsOf is the namespace r's commands run in.
func nsOf(r *repo) string {
	if r.netns != "" {
		return r.netns
	}
	return netns
}

// offlineGateway runs `imgp2p serve --offline` on r, in r's namespace or,
// with where == onHost, on the host's loopback (for dockerd).
func offlineGateway(t testing.TB, r *repo, where string) *gateway {
	t.Helper()
	return serveGateway(t, r, where, "--offline", "--mdns=false")
}

// peerGateway runs `imgp2p serve` on r in r's namespace, dialing peer (a
// daemon's Addr) for whatever r does not hold.
func peerGateway(t testing.TB, r *repo, peer string) *gateway {
	t.Helper()
	return serveGateway(t, r, nsOf(r), "--mdns=false", "--swarm-listen", "/ip4/127.0.0.1/tcp/0", "--peer", peer)
}

func serveGateway(t testing.TB, r *repo, where string, flags ...string) *gateway {
	t.Helper()
	// The port is picked before the gateway binds it (serve prints the
	// address it was given, not the one it got, so :0 cannot be learnt);
	// the rare collision shows as "address already in use" and is retried.
	for attempt := 0; ; attempt++ {
		g := newGateway(t, where)
		argv := append([]string{"serve", "--listen", g.Host}, flags...)
		ctx, cancel := context.WithCancel(context.Background())
		var cmd *exec.Cmd
		if where == onHost {
			cmd = r.hostCommand(ctx, argv...)
		} else {
			cmd = r.command(ctx, argv...)
		}
		g.proc = startProc(t, "imgp2p serve", cmd, cancel, true)
		err := g.waitReady(g.proc)
		if err == nil {
			return g
		}
		g.proc.stop(t)
		if attempt < 3 && strings.Contains(g.proc.logText(), "address already in use") {
			continue
		}
		t.Fatalf("gateway %s not ready: %v\nlog:\n%s", g.Host, err, g.proc.logText())
	}
}

// registryDaemon starts `imgp2p daemon --registry` on r and waits for both
// the daemon and its gateway.
func registryDaemon(t testing.TB, r *repo) (*daemon, *gateway) {
	t.Helper()
	g := newGateway(t, nsOf(r))
	d := r.startDaemon("--mdns=false", "--registry", g.Host)
	if err := g.waitReady(nil); err != nil {
		t.Fatalf("daemon's gateway %s not ready: %v\nlog:\n%s", g.Host, err, readFile(t, d.log))
	}
	return d, g
}

func newGateway(t testing.TB, where string) *gateway {
	t.Helper()
	host := fmt.Sprintf("127.0.0.1:%d", freePort(t, where))
	return &gateway{Host: host, URL: "http://" + host, ns: where, client: nsHTTPClient(where)}
}

// waitReady polls GET /v2/ until it answers 200, p (if any) exits, or a
// minute passes.
func (g *gateway) waitReady(p *bgProc) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/v2/", nil)
		resp, err := g.client.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return nil
			}
			err = fmt.Errorf("GET /v2/: %s", resp.Status)
		}
		cancel()
		if p != nil && p.done() {
			return fmt.Errorf("exited before it was ready (%v)", p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not answering after 60s: %v", err)
		}
		time.Sleep(100 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}

// stop stops a gateway the test started with serve, expecting a clean exit.
func (g *gateway) stop(t testing.TB) {
	t.Helper()
	if g.proc != nil {
		g.proc.stop(t)
	}
}

// do sends one request and returns the response with its whole body read.
func (g *gateway) do(t testing.TB, method, path string, hdr http.Header) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, g.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := g.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, body
}

// get is do for a GET that must answer 200; it returns the body.
func (g *gateway) get(t testing.TB, path string) []byte {
	t.Helper()
	resp, body := g.do(t, http.MethodGet, path, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, want 200\n%.2000s", path, resp.Status, body)
	}
	return body
}

// ociError is the OCI distribution error body.
type ociError struct {
	Errors []struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Detail  json.RawMessage `json:"detail"`
	} `json:"errors"`
}

// wantError checks an error response: status, and for anything but HEAD a
// JSON body holding code (any code when code is "") with a message.
func wantError(t testing.TB, what string, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: status %s, want %d %s; body %.500q", what, resp.Status, status, http.StatusText(status), body)
		return
	}
	if resp.Request.Method == http.MethodHead {
		if len(body) != 0 {
			t.Errorf("%s: HEAD answered with a body: %.200q", what, body)
		}
		return
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", what, ct)
	}
	var e ociError
	if err := json.Unmarshal(body, &e); err != nil || len(e.Errors) == 0 {
		t.Errorf("%s: body is not an OCI error (%v): %.500q", what, err, body)
		return
	}
	if code != "" && e.Errors[0].Code != code {
		t.Errorf("%s: error code %q, want %q; body %.500q", what, e.Errors[0].Code, code, body)
	}
	if e.Errors[0].Message == "" {
		t.Errorf("%s: error %s has no message", what, e.Errors[0].Code)
	}
}

// onlyGatewaySockets checks that the gateway process (on the host) holds no
// internet socket but TCP ones on its own 127.0.0.1 port: its listener and
// accepted connections. A UDP socket (mDNS, QUIC, DNS) or any other address
// would mean it reaches beyond the gateway.
func (g *gateway) onlyGatewaySockets(t testing.TB) {
	t.Helper()
	pid := g.proc.cmd.Process.Pid
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("listing the gateway's fds: %v", err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	_, port, _ := net.SplitHostPort(g.Host)
	p, _ := strconv.Atoi(port)
	want := fmt.Sprintf("0100007F:%04X", p) // /proc/net/tcp's 127.0.0.1:PORT
	listeners := 0
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || !inodes[fields[9]] {
				continue
			}
			if table == "tcp" && fields[1] == want && fields[3] == "0A" { // LISTEN
				listeners++
			}
			if table != "tcp" || fields[1] != want {
				t.Errorf("offline gateway holds a %s socket at %s (remote %s): it should hold only TCP on %s",
					table, fields[1], fields[2], g.Host)
			}
		}
		f.Close()
	}
	if listeners != 1 {
		// Without its own listener in view the check above proves nothing.
		t.Errorf("found %d listeners of pid %d on %s, want 1", listeners, pid, g.Host)
	}
}
