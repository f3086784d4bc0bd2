package registry

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/imgp2p/imgp2p/image"
)

// silentDAG acts as an online node for the blocks in silent: no peer ever
// sends them, so a Get waits until its context ends.
type silentDAG struct {
	ipld.DAGService
	mu     sync.Mutex
	silent map[cid.Cid]bool
}

func (d *silentDAG) silence(c cid.Cid) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.silent[c] = true
}

func (d *silentDAG) Get(ctx context.Context, c cid.Cid) (ipld.Node, error) {
	d.mu.Lock()
	silent := d.silent[c]
	d.mu.Unlock()
	if silent {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return d.DAGService.Get(ctx, c)
}

func (d *silentDAG) GetMany(ctx context.Context, ks []cid.Cid) <-chan *ipld.NodeOption {
	out := make(chan *ipld.NodeOption, len(ks))
	go func() {
		defer close(out)
		for _, k := range ks {
			nd, err := d.Get(ctx, k)
			out <- &ipld.NodeOption{Node: nd, Err: err}
		}
	}()
	return out
}

// silentImage imports a one-layer image into a silentDAG.
func silentImage(t *testing.T, layerSize int64) (*silentDAG, *image.Root, v1.Image) {
	t.Helper()
	ctx := context.Background()
	img, err := random.Image(layerSize, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	dag := &silentDAG{DAGService: mdtest.Mock(), silent: map[cid.Cid]bool{}}
	imp, err := image.ImportLayout(ctx, dag, dir, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := image.Open(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	return dag, root, img
}

// A blob or manifest whose blocks no peer sends is a 503 once StallTimeout
// passes without progress, not a 404 after the request's whole Timeout:
// docker and containerd retry a 503, and take a 404 as final.
func TestUnreachableBlocksAre503AfterTheStall(t *testing.T) {
	ctx := context.Background()
	dag, root, img := silentImage(t, 3<<20)
	layers, _ := img.Layers()
	layer, _ := layers[0].Digest()
	manifest, _ := img.Digest()
	for _, d := range []v1.Hash{layer, manifest} {
		c, err := root.BlobCID(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		dag.silence(c)
	}
	const stall = 300 * time.Millisecond
	srv := httptest.NewServer(New(Options{DAG: dag, StallTimeout: stall, Timeout: time.Hour}))
	defer srv.Close()
	for _, path := range []string{"blobs/" + layer.String(), "manifests/latest", "manifests/" + manifest.String()} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			start := time.Now()
			req, _ := http.NewRequest(method, srv.URL+"/v2/ipfs/"+root.CID.String()+"/"+path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct {
				Errors []struct{ Code, Message string }
			}
			if method == http.MethodGet {
				json.NewDecoder(resp.Body).Decode(&body)
			}
			resp.Body.Close()
			took := time.Since(start)
			if resp.StatusCode != http.StatusServiceUnavailable || took > 30*stall {
				t.Errorf("%s %s: %d after %v, want 503 after about %v", method, path, resp.StatusCode, took, stall)
			}
			if method == http.MethodGet && (len(body.Errors) != 1 || body.Errors[0].Code != codeUnavailable) {
				t.Errorf("%s %s: body %+v, want one %s error", method, path, body, codeUnavailable)
			}
		}
	}
}

// A client that stops reading a blob holds its handler, and the blocks
// read ahead for it, only until a write has waited StallTimeout.
func TestAStalledClientIsDropped(t *testing.T) {
	dag, root, img := silentImage(t, 32<<20)
	layers, _ := img.Layers()
	layer, _ := layers[0].Digest()
	var running atomic.Int64
	h := New(Options{DAG: dag, StallTimeout: 300 * time.Millisecond, Timeout: time.Hour})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		running.Add(1)
		defer running.Add(-1)
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	const clients = 4
	for range clients {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.(*net.TCPConn).SetReadBuffer(4 << 10)
		fmt.Fprintf(c, "GET /v2/ipfs/%s/blobs/%s HTTP/1.1\r\nHost: gateway\r\n\r\n", root.CID, layer)
		// Read the status line, then nothing more.
		if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "HTTP/1.1 200 OK\r\n" {
			t.Fatalf("status line %q, %v", line, err)
		}
	}
	if n := running.Load(); n != clients {
		t.Fatalf("%d handlers running, want %d (one per stalled client)", n, clients)
	}
	deadline := time.Now().Add(20 * time.Second)
	for running.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d handlers still running 20 s after their clients stopped reading", running.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A client reading steadily, if slowly, keeps its blob: progress is each
// piece the kernel takes, not each whole block, and the watch resets on
// every one.
func TestASlowSteadyClientIsNotDropped(t *testing.T) {
	const size = 8 << 20
	dag, root, img := silentImage(t, size)
	layers, _ := img.Layers()
	layer, _ := layers[0].Digest()
	srv := httptest.NewServer(New(Options{DAG: dag, StallTimeout: time.Second, Timeout: time.Hour}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v2/ipfs/" + root.CID.String() + "/blobs/" + layer.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got int64
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		got += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("dropped after %d of %d bytes, reading 32 KiB every 10 ms with a 1 s stall limit: %v", got, resp.ContentLength, err)
		}
		time.Sleep(10 * time.Millisecond) // the client's pace, not synchronisation
	}
	if got != resp.ContentLength {
		t.Fatalf("read %d of %d bytes", got, resp.ContentLength)
	}
}

// A root that no peer sends within ResolveTimeout is a 503 a client can
// retry, not a 404 that says it does not exist; a root the node knows it
// cannot get (offline, nothing to ask) stays a 404.
func TestAnUnresolvedRootIs503(t *testing.T) {
	dag, root, _ := silentImage(t, 1<<10)
	dag.silence(root.CID)
	srv := httptest.NewServer(New(Options{DAG: dag, ResolveTimeout: 200 * time.Millisecond}))
	defer srv.Close()
	offline := httptest.NewServer(New(Options{DAG: mdtest.Mock()}))
	defer offline.Close()
	for _, c := range []struct {
		srv    *httptest.Server
		status int
		code   string
	}{
		{srv, http.StatusServiceUnavailable, codeUnavailable},
		{offline, http.StatusNotFound, codeNameUnknown},
	} {
		resp, err := http.Get(c.srv.URL + "/v2/ipfs/" + root.CID.String() + "/manifests/latest")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Errors []struct{ Code, Message string }
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.status || len(body.Errors) != 1 || body.Errors[0].Code != c.code {
			t.Errorf("got %d %+v, want %d %s", resp.StatusCode, body, c.status, c.code)
		}
	}
}
