package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	chunker "github.com/ipfs/boxo/chunker"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/boxo/ipld/unixfs/importer"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// hostileRoot stores an image root over blobs and index as anyone could
// build one (with Kubo's older defaults, even), without imgp2p's importer
// and its checks: what a peer can serve.
func hostileRoot(t *testing.T, dag ipld.DAGService, blobs [][]byte, index []byte) cid.Cid {
	t.Helper()
	ctx := context.Background()
	file := func(b []byte) ipld.Node {
		nd, err := importer.BuildDagFromReader(dag, chunker.NewSizeSplitter(bytes.NewReader(b), 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		return nd
	}
	dir := func(children map[string]ipld.Node) ipld.Node {
		d, err := uio.NewDirectory(dag)
		if err != nil {
			t.Fatal(err)
		}
		for name, nd := range children {
			if err := d.AddChild(ctx, name, nd); err != nil {
				t.Fatal(err)
			}
		}
		nd, err := d.GetNode()
		if err != nil {
			t.Fatal(err)
		}
		if err := dag.Add(ctx, nd); err != nil {
			t.Fatal(err)
		}
		return nd
	}
	sha := map[string]ipld.Node{}
	for _, b := range blobs {
		sha[fmt.Sprintf("%x", sha256.Sum256(b))] = file(b)
	}
	return dir(map[string]ipld.Node{
		"oci-layout": file([]byte(`{"imageLayoutVersion":"1.0.0"}`)),
		"index.json": file(index),
		"blobs":      dir(map[string]ipld.Node{"sha256": dir(sha)}),
	}).Cid()
}

func descOf(mt types.MediaType, b []byte) v1.Descriptor {
	return v1.Descriptor{MediaType: mt, Size: int64(len(b)), Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(b))}}
}

// bigManifests is a root whose index.json lists n distinct manifests of
// just over 3 MiB, alike but for their last bytes, tagged v0, v1, …
func bigManifests(t *testing.T, dag ipld.DAGService, n int) cid.Cid {
	t.Helper()
	pad := strings.Repeat("A", 3<<20)
	idx := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	var blobs [][]byte
	for i := range n {
		m := fmt.Appendf(nil, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[],"annotations":{"pad":"%s","n":"%d"}}`, pad, i)
		blobs = append(blobs, m)
		d := descOf(types.OCIManifestSchema1, m)
		d.Annotations = map[string]string{"org.opencontainers.image.ref.name": fmt.Sprintf("v%d", i)}
		idx.Manifests = append(idx.Manifests, d)
	}
	index, _ := json.Marshal(idx)
	return hostileRoot(t, dag, blobs, index)
}

func getStatus(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body)
}

// Resolving latest, and listing tags, read every manifest index.json
// lists (to tell images from artifacts). Before, each such request on a
// root of 30 distinct 3 MiB manifests (a few MB of blocks) read 90 MiB;
// an index.json can list 25,000. Now a request's metadata reads are
// bounded as a pull's are, and such a request fails.
func TestRequestsReadBoundedMetadata(t *testing.T) {
	dag := mdtest.Mock()
	root := bigManifests(t, dag, 30)
	srv := httptest.NewServer(New(Options{DAG: dag}))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/manifests/latest", "/tags/list", "/manifests/sha256:" + strings.Repeat("0", 64)} {
		status, body := getStatus(t, srv.URL+"/v2/ipfs/"+root.String()+path)
		if status != http.StatusNotFound || !strings.Contains(body, "metadata") {
			t.Errorf("GET %s of a root of 30 distinct 3 MiB manifests: %d %.300s; want a 404 (final, not retried) naming its metadata", path, status, body)
		}
	}
	// One manifest of them is one manifest's worth.
	if status, body := getStatus(t, srv.URL+"/v2/ipfs/"+root.String()+"/manifests/v3"); status != http.StatusOK {
		t.Errorf("GET manifests/v3: %d %.300s", status, body)
	}
}

// The referrers API reads every manifest and index in a root. A root's
// author can make that cost much more than the root holds: manifests
// alike but for their last bytes share all their 1 MiB chunks but the
// last, so 30 distinct 3 MiB manifests take a few MB of blocks. Before,
// each referrers request read all 90 MiB (and 25,000 of them, 75 GB), as
// no walk of an image pulled or pushed may; now the walk is bounded as
// theirs are, and the request fails.
func TestReferrersWalkIsBoundedLikeEveryWalk(t *testing.T) {
	dag := mdtest.Mock()
	root := bigManifests(t, dag, 30)
	srv := httptest.NewServer(New(Options{DAG: dag}))
	t.Cleanup(srv.Close)
	status, body := getStatus(t, srv.URL+"/v2/ipfs/"+root.String()+"/referrers/sha256:"+strings.Repeat("0", 64))
	if status != http.StatusNotFound || !strings.Contains(body, "metadata") {
		t.Errorf("referrers of a root of 30 distinct 3 MiB manifests: %d %.300s; want a 404 (final, not retried) naming its metadata", status, body)
	}
}

// distinctDigests runs on every index.json entry of a root, several times
// a request. It compared each entry with every one kept: a 3.8 MB
// index.json of 25,000 distinct manifests took tags/list and
// manifests/latest 6 s each, 0.9 s once linear. 100,000 entries (10^10
// comparisons before) must take well under a second.
func TestDistinctDigestsIsLinear(t *testing.T) {
	descs := make([]v1.Descriptor, 100_000)
	for i := range descs {
		descs[i] = descOf(types.OCIManifestSchema1, fmt.Appendf(nil, "%d", i))
	}
	// About 0.25 s on real hardware. Under qemu-user everything is about
	// 8 times slower (1.9 s): there the budget is 10 times larger, still
	// far below the hours the quadratic version would take.
	budget := 2 * time.Second
	if emulated, why := detectEmulation(); emulated {
		budget *= 10
		t.Logf("emulated (%s): budget %s", why, budget)
	}
	start := time.Now()
	if n := len(distinctDigests(append(descs, descs...))); n != len(descs) {
		t.Fatalf("%d distinct digests, want %d", n, len(descs))
	}
	if took := time.Since(start); took > budget {
		t.Errorf("distinctDigests of 200,000 entries took %s, over the budget of %s", took, budget)
	}
}
