package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// Gateway benchmarks; like the others, not part of the CI run:
//
//	bash .ci/run ./e2e/ -run '^$' -bench Gateway -benchtime 5x

var distributionReady = sync.OnceValue(func() error {
	_, err := exec.LookPath("docker-registry")
	if err != nil {
		return fmt.Errorf("docker-registry (Debian package docker-registry): %v", err)
	}
	return nil
})

// startDistribution runs Debian's docker-registry (distribution 2.8) in
// namespace ns with filesystem storage in a temp dir, and returns it as a
// gateway value (address and client; no imgp2p involved).
func startDistribution(b testing.TB, ns string) *gateway {
	b.Helper()
	need(b, "docker-registry", distributionReady())
	reg := newGateway(b, ns)
	dir := b.TempDir()
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
`, filepath.Join(dir, "storage"), reg.Host)
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	argv := inNamespace(ns, "docker-registry", "serve", cfg)
	reg.proc = startProc(b, "docker-registry", exec.CommandContext(ctx, argv[0], argv[1:]...), cancel, false)
	if err := reg.waitReady(reg.proc); err != nil {
		b.Fatalf("docker-registry: %v\nlog:\n%s", err, reg.proc.logText())
	}
	return reg
}

// BenchmarkGatewayBlob: GET of a 64 MiB layer from a gateway serving its
// own repo against docker-registry serving the same blob from its
// filesystem storage, taking turns, same loopback, same client. Reports each
// one's MB/s and gateway/registry (issue 4's goal: ≥ 0.8).
func BenchmarkGatewayBlob(b *testing.B) {
	img := randomLayout(b, benchMiB, 3)
	d := digests(b, img)
	r := newRepo(b)
	cid := r.push(img)
	gw := offlineGateway(b, r, nsOf(r))

	reg := startDistribution(b, nsOf(r))
	image, err := testimage.FirstImage(img)
	if err != nil {
		b.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Host+"/bench/random:v1", name.Insecure)
	if err != nil {
		b.Fatal(err)
	}
	if err := remote.Write(ref, image, remote.WithTransport(reg.client.Transport)); err != nil {
		b.Fatalf("pushing the image to docker-registry: %v", err)
	}

	layer := d.Layers[0]
	fromGW := gw.URL + "/v2/ipfs/" + cid + "/blobs/" + layer.String()
	fromReg := reg.URL + "/v2/bench/random/blobs/" + layer.String()
	// Both serve the very same bytes.
	for _, u := range []struct {
		c   *http.Client
		url string
	}{{gw.client, fromGW}, {reg.client, fromReg}} {
		if got := sha256Digest(fetchAll(b, u.c, u.url)); got != layer.String() {
			b.Fatalf("GET %s: digest %s, want %s", u.url, got, layer)
		}
	}

	var tGW, tReg time.Duration
	var size int64
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, so neither always gets a warm cache.
		var n int64
		if i%2 == 0 {
			n, _ = timedGet(b, gw.client, fromGW, &tGW)
			size, _ = timedGet(b, reg.client, fromReg, &tReg)
		} else {
			size, _ = timedGet(b, reg.client, fromReg, &tReg)
			n, _ = timedGet(b, gw.client, fromGW, &tGW)
		}
		if n != size {
			b.Fatalf("gateway sent %d bytes, registry %d", n, size)
		}
	}
	mbps := func(total time.Duration) float64 {
		return float64(size) * float64(b.N) / 1e6 / total.Seconds()
	}
	b.ReportMetric(mbps(tGW), "gateway-MB/s")
	b.ReportMetric(mbps(tReg), "registry-MB/s")
	b.ReportMetric(mbps(tGW)/mbps(tReg), "gateway/registry")
}

// BenchmarkGatewayPeerBlob: a gateway with an empty repo serves a 64 MiB
// layer that a peer daemon holds. Reports the time to the first body byte
// (after the manifest, as a client asks) and the throughput of the whole
// blob; each iteration starts a fresh gateway.
func BenchmarkGatewayPeerBlob(b *testing.B) {
	img := randomLayout(b, benchMiB, 4)
	d := digests(b, img)
	a := newRepo(b)
	da := a.startDaemon("--mdns=false")
	cid := a.push(img)
	var ttfb, whole time.Duration
	var size int64
	for b.Loop() {
		gw := peerGateway(b, newRepo(b), da.Addr)
		gw.get(b, "/v2/ipfs/"+cid+"/manifests/latest")
		var first time.Duration
		size, first = timedGet(b, gw.client, gw.URL+"/v2/ipfs/"+cid+"/blobs/"+d.Layers[0].String(), &whole)
		ttfb += first
		gw.stop(b)
	}
	b.ReportMetric(float64(ttfb.Milliseconds())/float64(b.N), "ttfb-ms")
	b.ReportMetric(float64(size)*float64(b.N)/1e6/whole.Seconds(), "peer-MB/s")
}

// timedGet GETs url, discarding the body, adds the request's duration to
// *total and returns the body's length and the time to its first byte.
func timedGet(b testing.TB, c *http.Client, url string, total *time.Duration) (int64, time.Duration) {
	b.Helper()
	start := time.Now()
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s", url, resp.Status)
	}
	n, err := io.ReadFull(resp.Body, make([]byte, 1))
	if err != nil {
		b.Fatalf("GET %s: no first byte: %v", url, err)
	}
	ttfb := time.Since(start)
	rest, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		b.Fatalf("GET %s: %v", url, err)
	}
	*total += time.Since(start)
	return int64(n) + rest, ttfb
}

// fetchAll GETs url and returns its body.
func fetchAll(b testing.TB, c *http.Client, url string) []byte {
	b.Helper()
	resp, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return body
}
