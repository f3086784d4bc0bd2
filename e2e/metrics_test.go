package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricsSample is one scrape of a Prometheus text endpoint: series key
// (see metricKey) → value.
type metricsSample map[string]float64

// metricKey is a series' key: its name, then its labels sorted by name,
// as name{k="v",k2="v2"}.
func metricKey(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var pairs []string
	for i := 0; i+1 < len(labels); i += 2 {
		pairs = append(pairs, labels[i]+`="`+labels[i+1]+`"`)
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// parseMetrics reads the Prometheus text format with Prometheus's own
// parser: libp2p's series, served beside ours, have label values a
// hand-split would misread. A histogram or summary gives its _sum and
// _count.
func parseMetrics(body []byte) (metricsSample, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	s := metricsSample{}
	for name, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			switch {
			case m.Counter != nil:
				s[metricKey(name, labels...)] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				s[metricKey(name, labels...)] = m.GetGauge().GetValue()
			case m.Untyped != nil:
				s[metricKey(name, labels...)] = m.GetUntyped().GetValue()
			case m.Histogram != nil:
				s[metricKey(name+"_sum", labels...)] = m.GetHistogram().GetSampleSum()
				s[metricKey(name+"_count", labels...)] = float64(m.GetHistogram().GetSampleCount())
			case m.Summary != nil:
				s[metricKey(name+"_sum", labels...)] = m.GetSummary().GetSampleSum()
				s[metricKey(name+"_count", labels...)] = float64(m.GetSummary().GetSampleCount())
			}
		}
	}
	return s, nil
}

// scrapeOnce GETs http://addr/metrics from namespace ns.
func scrapeOnce(ns, addr string) (metricsSample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := nsHTTPClient(ns).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s: %.300q", resp.Status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		return nil, fmt.Errorf("GET /metrics: Content-Type %q, want the text format (text/plain)", ct)
	}
	return parseMetrics(body)
}

// scrape polls addr until it answers, for up to 30s (the endpoint may come
// up a moment after the daemon's API), and fails the test with log() if it
// never does.
func scrape(t testing.TB, ns, addr string, log func() string) metricsSample {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s, err := scrapeOnce(ns, addr)
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics at %s: %v (polled for 30s)\nlog:\n%s", addr, err, log())
		}
		time.Sleep(100 * time.Millisecond) // poll interval, bounded by the deadline
	}
}

// want returns the value of a series that must be present.
func (s metricsSample) want(t testing.TB, key string) float64 {
	t.Helper()
	v, ok := s[key]
	if !ok {
		var keys []string
		for k := range s {
			if strings.HasPrefix(k, "imgp2p_") {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		t.Fatalf("no series %s; imgp2p series: %v", key, keys)
	}
	return v
}

// tcpListeners lists the local addresses, as /proc/net/tcp{,6} print them
// ("0100007F:1F90"), on which the process pid listens on TCP port port.
func tcpListeners(t testing.TB, pid, port int) []string {
	t.Helper()
	owned := socketInodes(t, pid)
	var out []string
	suffix := fmt.Sprintf(":%04X", port)
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) >= 10 && fields[3] == "0A" && strings.HasSuffix(fields[1], suffix) && owned[fields[9]] {
				out = append(out, table+" "+fields[1])
			}
		}
		f.Close()
	}
	return out
}

// wantLoopbackListener checks that pid listens on port on 127.0.0.1 and
// nowhere else.
func wantLoopbackListener(t testing.TB, what string, pid, port int) {
	t.Helper()
	got := tcpListeners(t, pid, port)
	if want := []string{fmt.Sprintf("tcp 0100007F:%04X", port)}; !slices.Equal(got, want) {
		t.Errorf("%s listens on %v (as /proc/net/tcp writes it), want only 127.0.0.1:%d (%v)", what, got, port, want)
	}
}

const (
	fetchedBytes  = "imgp2p_fetched_bytes_total"
	fetchedBlocks = "imgp2p_fetched_blocks_total"
	servedBytes   = "imgp2p_served_bytes_total"
	servedBlocks  = "imgp2p_served_blocks_total"
	peersGauge    = "imgp2p_peers"
	gatewayReqs   = "imgp2p_gateway_requests_total"
)

// TestMetricsPeerTransfer: two daemons with --metrics (one given a bare
// :PORT, which must mean loopback). When B pulls an image from A through
// its daemon, A counts at least the image's bytes served and B at least
// its bytes fetched; A, which had everything, fetched nothing.
func TestMetricsPeerTransfer(t *testing.T) {
	a := newRepo(t)
	portA := freePort(t, netns)
	da := a.startDaemon("--mdns=false", "--metrics", fmt.Sprintf(":%d", portA))
	addrA := fmt.Sprintf("127.0.0.1:%d", portA)
	logA := func() string { return string(readFile(t, da.log)) }
	layout := randomLayout(t, 16, 901)
	size := blobBytes(t, layout)
	cid := a.push(layout)

	b := newRepo(t)
	portB := freePort(t, netns)
	addrB := fmt.Sprintf("127.0.0.1:%d", portB)
	db := b.startDaemon("--mdns=false", "--metrics", addrB)
	logB := func() string { return string(readFile(t, db.log)) }

	a0, b0 := scrape(t, netns, addrA, logA), scrape(t, netns, addrB, logB)
	wantLoopbackListener(t, "daemon --metrics :PORT", da.cmd.Process.Pid, portA)
	wantLoopbackListener(t, "daemon --metrics 127.0.0.1:PORT", db.cmd.Process.Pid, portB)
	for _, k := range []string{fetchedBytes, fetchedBlocks, servedBytes, servedBlocks, peersGauge} {
		a0.want(t, k)
		b0.want(t, k)
	}
	// What a long-running seeder is watched by: its memory, descriptors
	// and goroutines.
	for _, k := range []string{"process_resident_memory_bytes", "process_open_fds", "go_goroutines"} {
		if v := a0.want(t, k); v <= 0 {
			t.Errorf("%s is %v", k, v)
		}
	}

	b.ok("pull", "--peer", da.Addr, "--timeout", "2m", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
	a1, b1 := scrape(t, netns, addrA, logA), scrape(t, netns, addrB, logB)
	delta := func(after, before metricsSample, k string) float64 { return after.want(t, k) - before.want(t, k) }
	t.Logf("image %d bytes; A served %.0f bytes in %.0f blocks, B fetched %.0f bytes in %.0f blocks; peers A %.0f, B %.0f",
		size, delta(a1, a0, servedBytes), delta(a1, a0, servedBlocks), delta(b1, b0, fetchedBytes), delta(b1, b0, fetchedBlocks),
		a1[peersGauge], b1[peersGauge])
	if d := delta(a1, a0, servedBytes); d < float64(size) {
		t.Errorf("A's %s grew by %.0f, less than the %d bytes B pulled from it", servedBytes, d, size)
	}
	if d := delta(b1, b0, fetchedBytes); d < float64(size) {
		t.Errorf("B's %s grew by %.0f, less than the %d bytes it pulled from A", fetchedBytes, d, size)
	}
	// 16 MiB in 1 MiB leaves, at least.
	if d := delta(a1, a0, servedBlocks); d < 16 {
		t.Errorf("A's %s grew by %.0f, want at least 16", servedBlocks, d)
	}
	if d := delta(b1, b0, fetchedBlocks); d < 16 {
		t.Errorf("B's %s grew by %.0f, want at least 16", fetchedBlocks, d)
	}
	if d := delta(a1, a0, fetchedBytes); d != 0 {
		t.Errorf("A holds the whole image yet its %s grew by %.0f", fetchedBytes, d)
	}
	// libp2p's own series are served too.
	if k := metricKey("libp2p_rcmgr_connections", "dir", "outbound", "scope", "system"); b1.want(t, k) < 1 {
		t.Errorf("B's %s is %.0f while it keeps its connection to A", k, b1[k])
	}
	if b1[peersGauge] < 1 {
		t.Errorf("B's %s is %.0f right after pulling from A over a connection it keeps", peersGauge, b1[peersGauge])
	}
}

// TestMetricsGatewayRequests: `serve --metrics :PORT` counts gateway
// requests by method and status, and listens on loopback only.
func TestMetricsGatewayRequests(t *testing.T) {
	r := newRepo(t)
	cid := r.push(helloLayout(t))
	port := freePort(t, netns)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	gw := serveGateway(t, r, netns, "--mdns=false", "--swarm-listen", "/ip4/127.0.0.1/tcp/0", "--metrics", fmt.Sprintf(":%d", port))
	checkGatewayCounts(t, gw, addr, cid)
	wantLoopbackListener(t, "serve --metrics :PORT", gw.proc.cmd.Process.Pid, port)
}

// TestMetricsOfflineGateway: the same for `serve --offline`, the gateway
// the docker tests (and a docker host) run: asking for metrics and getting
// no endpoint, without a word, is not an option.
func TestMetricsOfflineGateway(t *testing.T) {
	r := newRepo(t)
	cid := r.push(helloLayout(t))
	port := freePort(t, netns)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	gw := serveGateway(t, r, netns, "--offline", "--mdns=false", "--metrics", addr)
	checkGatewayCounts(t, gw, addr, cid)
}

// checkGatewayCounts sends one 200 GET, one 404 GET and one 200 HEAD to
// the gateway and checks that each moved its own counter by exactly one.
func checkGatewayCounts(t *testing.T, gw *gateway, metricsAddr, cid string) {
	t.Helper()
	log := func() string { return gw.proc.logText() }
	before := scrape(t, netns, metricsAddr, log)

	if resp, body := gw.do(t, http.MethodGet, "/v2/ipfs/"+cid+"/manifests/latest", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET manifest: %s %.300q", resp.Status, body)
	}
	if resp, body := gw.do(t, http.MethodGet, "/v2/ipfs/"+cid+"/manifests/no-such-tag", nil); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET unknown tag: %s, want 404 %.300q", resp.Status, body)
	}
	if resp, _ := gw.do(t, http.MethodHead, "/v2/ipfs/"+cid+"/manifests/latest", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD manifest: %s", resp.Status)
	}

	after := scrape(t, netns, metricsAddr, log)
	for _, c := range []struct{ method, code string }{{"GET", "200"}, {"GET", "404"}, {"HEAD", "200"}} {
		k := metricKey(gatewayReqs, "method", c.method, "code", c.code)
		if d := after.want(t, k) - before[k]; d != 1 {
			t.Errorf("%s grew by %.0f after one such request, want 1", k, d)
		}
	}
}
