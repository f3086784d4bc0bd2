package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// chunk is the UnixFS chunk size of an image's blobs (the 2025 profile's
// 1 MiB).
const chunk = 1 << 20

// TestGatewayRangeFromPeer: a range of a 64 MiB layer, asked of a gateway
// that does not hold it, is fetched from the peer that does by the blocks
// covering it and nothing more (boxo's DagReader would preload ten
// siblings, ~10 MiB), and the bytes are exactly the blob's. A client that
// hangs up mid-blob stops the fetch.
//
// How much came from the peer is measured on the wire: the gateway, its
// peer and the HTTP client share a namespace of the test's own whose only
// interface is lo, so lo's byte counter, read before the gateway starts and
// after it has exited (so a fetch still running after the response counts
// too), is every byte the test moved: HTTP bodies, which the test knows, and
// libp2p, which must then be the covering blocks plus a little protocol.
func TestGatewayRangeFromPeer(t *testing.T) {
	ns := newLoopbackNamespace(t)
	big := randomLayout(t, 64, 64)
	d := digests(t, big)
	blob := readFile(t, testimage.BlobPath(big, d.Layers[0]))
	size := int64(len(blob))

	a := newRepo(t)
	a.netns = ns
	da := a.startDaemon("--mdns=false")
	cid := a.push(big)

	// A peer keeps some chatter going (identify, DHT, provider records);
	// none of it is anywhere near a block.
	const slack = 512 << 10
	for _, tc := range []struct {
		name     string
		off, len int64
	}{
		{"1MiB-middle", size/2 - 300_000, 1 << 20}, // straddles two blocks
		{"4KiB-late", 3*size/4 + 123_457, 4 << 10}, // inside one block
		{"last-byte", size - 1, 1},                 // the short last block
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newRepo(t)
			g.netns = ns
			before := loTxBytes(t, ns)
			gw := peerGateway(t, g, da.Addr)
			repo := "/v2/ipfs/" + cid

			// What a lazy puller does: manifest, then ranges of a layer.
			manifest := gw.get(t, repo+"/manifests/latest")
			rng := fmt.Sprintf("bytes=%d-%d", tc.off, tc.off+tc.len-1)
			resp, body := gw.do(t, http.MethodGet, repo+"/blobs/"+d.Layers[0].String(), http.Header{"Range": {rng}})
			gw.stop(t)
			moved := loTxBytes(t, ns) - before

			if resp.StatusCode != http.StatusPartialContent {
				t.Fatalf("Range: %s: %s, want 206\n%.500s", rng, resp.Status, body)
			}
			wantHeader(t, rng, resp, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", tc.off, tc.off+tc.len-1, size))
			if !bytes.Equal(body, blob[tc.off:tc.off+tc.len]) {
				t.Errorf("Range: %s: %d bytes that are not the blob's bytes %d-%d", rng, len(body), tc.off, tc.off+tc.len-1)
			}

			covering := coveringBytes(tc.off, tc.len, size)
			fromPeer := moved - int64(len(manifest)) - int64(len(body))
			t.Logf("range of %d bytes at %d: %d bytes moved on lo, %d besides HTTP bodies; covering blocks %d bytes",
				tc.len, tc.off, moved, fromPeer, covering)
			if fromPeer > covering+slack {
				t.Errorf("the gateway fetched about %.1f MiB from its peer for a %d-byte range covered by %.1f MiB of blocks (limit %.1f MiB)",
					mib(fromPeer), tc.len, mib(covering), mib(covering+slack))
			}
			// The blocks had to cross lo: if the count missed them, it
			// would prove nothing above.
			if fromPeer < covering {
				t.Errorf("only %d bytes besides HTTP crossed lo, less than the %d of the covering blocks: the measurement is broken", fromPeer, covering)
			}
		})
	}
	// A client that reads the first MiB of the whole blob and hangs up
	// cancels the fetch: the gateway stops well short of the blob. What
	// may still arrive is what was in flight: socket buffers and a window
	// of blocks, some MiB.
	t.Run("disconnect", func(t *testing.T) {
		g := newRepo(t)
		g.netns = ns
		before := loTxBytes(t, ns)
		gw := peerGateway(t, g, da.Addr)
		resp, err := gw.client.Get(gw.URL + "/v2/ipfs/" + cid + "/blobs/" + d.Layers[0].String())
		if err != nil {
			t.Fatal(err)
		}
		head := make([]byte, 1<<20)
		_, err = io.ReadFull(resp.Body, head)
		resp.Body.Close() // not drained: the connection is closed
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET whole blob: %s, reading its first MiB: %v", resp.Status, err)
		}
		if !bytes.Equal(head, blob[:len(head)]) {
			t.Errorf("the first MiB of the blob differs from the stored one")
		}
		gw.stop(t)
		fetched := loTxBytes(t, ns) - before
		t.Logf("read 1 MiB of %.1f MiB and hung up: %.1f MiB crossed lo in all", mib(size), mib(fetched))
		if fetched > size/2 {
			t.Errorf("after the client hung up at 1 MiB the gateway went on to move %.1f MiB of a %.1f MiB blob", mib(fetched), mib(size))
		}
	})
}

// coveringBytes is the size of the chunks holding bytes [off, off+n) of a
// blob of size bytes.
func coveringBytes(off, n, size int64) int64 {
	var total int64
	for i := off / chunk; i <= (off+n-1)/chunk; i++ {
		total += min(chunk, size-i*chunk)
	}
	return total
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
