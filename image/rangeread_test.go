package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/ipfs/boxo/ipld/merkledag"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// countingDAG counts the blocks read through it.
type countingDAG struct {
	ipld.DAGService
	reads atomic.Int64
}

func (c *countingDAG) Get(ctx context.Context, k cid.Cid) (ipld.Node, error) {
	c.reads.Add(1)
	return c.DAGService.Get(ctx, k)
}

func (c *countingDAG) GetMany(ctx context.Context, ks []cid.Cid) <-chan *ipld.NodeOption {
	c.reads.Add(int64(len(ks)))
	return c.DAGService.GetMany(ctx, ks)
}

func TestRangeReadsFetchOnlyCoveringBlocks(t *testing.T) {
	ctx := context.Background()
	dag := &countingDAG{DAGService: mdtest.Mock()}
	data, f := randomFile(t, dag, 9<<20+12345, 1)
	cases := []struct{ off, n int64 }{
		{0, 10}, {1<<20 - 5, 10}, {4<<20 + 512<<10, 1 << 20}, {int64(len(data)) - 7, 7}, {0, int64(len(data))},
	}
	for _, c := range cases {
		dag.reads.Store(0)
		var out bytes.Buffer
		if err := writeRange(ctx, dag, f.node, c.off, c.off+c.n, 0, func(b []byte) error { out.Write(b); return nil }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data[c.off:c.off+c.n]) {
			t.Fatalf("range %d+%d: wrong bytes", c.off, c.n)
		}
		// Chunks are 1 MiB: a range touches at most n/1MiB+2 of them.
		if max := c.n>>20 + 2; dag.reads.Load() > max {
			t.Fatalf("range %d+%d read %d blocks, want at most %d", c.off, c.n, dag.reads.Load(), max)
		}
	}
}

func TestVerifyingReaderRejectsWrongBytes(t *testing.T) {
	good := []byte("the promised bytes")
	d := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(good))}, Size: int64(len(good))}
	read := func(b []byte) error {
		_, err := io.Copy(io.Discard, &verifyingReader{r: bytes.NewReader(b), c: io.NopCloser(nil), d: d, h: sha256.New()})
		return err
	}
	if err := read(good); err != nil {
		t.Fatalf("honest bytes: %v", err)
	}
	for _, bad := range [][]byte{[]byte("the promised bytez"), []byte("the promised byte"), []byte("the promised bytes!")} {
		if err := read(bad); err == nil || !strings.Contains(err.Error(), d.Digest.String()) {
			t.Fatalf("%q passed as %s: %v", bad, d.Digest, err)
		}
	}
}

func TestVerifiedWriterHoldsBackTheLastBlock(t *testing.T) {
	blocks := [][]byte{[]byte("first block "), []byte("second block "), []byte("last")}
	all := bytes.Join(blocks, nil)
	good := v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(all))}, Size: int64(len(all))}
	bad := good
	bad.Digest.Hex = fmt.Sprintf("%x", sha256.Sum256([]byte("something else")))
	for _, c := range []struct {
		d    v1.Descriptor
		fail bool
	}{{good, false}, {bad, true}} {
		var out bytes.Buffer
		v := newVerifiedWriter(&out, c.d)
		var err error
		for _, b := range blocks {
			if err = v.write(b); err != nil {
				break
			}
		}
		v.stop()
		if c.fail {
			if err == nil || out.Len() == len(all) {
				t.Fatalf("bad digest: err %v, %d of %d bytes passed", err, out.Len(), len(all))
			}
		} else if err != nil || !bytes.Equal(out.Bytes(), all) {
			t.Fatalf("good digest: err %v, got %q", err, out.Bytes())
		}
	}
}

// A file node whose size field promises more than its children hold
// (anyone can build one) must fail a read, whole or ranged, rather than end
// it short of a Content-Length the gateway has sent, and must never be
// recorded as matching its digest.
func TestReadsRefuseAFileShorterThanItsSize(t *testing.T) {
	ctx := context.Background()
	dag := mdtest.Mock()
	data, f := randomFile(t, dag, 3<<20, 7)
	honest := f.node.(*merkledag.ProtoNode)
	fsn, err := unixfs.FSNodeFromBytes(honest.Data())
	if err != nil {
		t.Fatal(err)
	}
	short := unixfs.NewFSNode(unixfs.TFile)
	links := honest.Links()
	for i := range len(links) - 1 {
		short.AddBlockSize(fsn.BlockSize(i))
	}
	short.UpdateFilesize(int64(fsn.BlockSize(len(links) - 1))) // back to the full size
	raw, err := short.GetBytes()
	if err != nil {
		t.Fatal(err)
	}
	crafted := merkledag.NodeWithData(raw)
	for _, l := range links[:len(links)-1] {
		crafted.AddRawLink("", l)
	}
	if got := int64(short.FileSize()); got != int64(len(data)) {
		t.Fatalf("crafted file claims %d bytes, want %d", got, len(data))
	}
	for _, span := range [][2]int64{{0, int64(len(data))}, {int64(len(data)) - 10, int64(len(data))}} {
		var out bytes.Buffer
		err := writeRange(ctx, dag, crafted, span[0], span[1], 0, func(b []byte) error { out.Write(b); return nil })
		if err == nil || !strings.Contains(err.Error(), "parts add up to") {
			t.Fatalf("range %v of a short file: err %v after %d bytes, want a size mismatch", span, err, out.Len())
		}
	}
}

// gatedDAG holds every Get until open is closed, counting those waiting.
type gatedDAG struct {
	ipld.DAGService
	open    chan struct{}
	failing cid.Cid // Get of this one fails

	mu            sync.Mutex
	waiting, peak int
}

func (g *gatedDAG) Get(ctx context.Context, k cid.Cid) (ipld.Node, error) {
	g.mu.Lock()
	g.waiting++
	g.peak = max(g.peak, g.waiting)
	g.mu.Unlock()
	select {
	case <-g.open:
	case <-ctx.Done():
	}
	g.mu.Lock()
	g.waiting--
	g.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if k == g.failing {
		return nil, ipld.ErrNotFound{Cid: k}
	}
	return g.DAGService.Get(ctx, k)
}

// waitForAsks waits until n Gets are waiting at the gate.
func (g *gatedDAG) waitForAsks(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for waiting, _ := g.counts(); waiting < n; waiting, _ = g.counts() {
		if time.Now().After(deadline) {
			t.Fatalf("%d blocks asked for at once, want %d", waiting, n)
		}
		time.Sleep(time.Millisecond) // polling a condition, bounded by the deadline
	}
}

func (g *gatedDAG) counts() (waiting, peak int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting, g.peak
}

// A whole-blob read keeps readAhead blocks on the way, never more, and
// still writes them in order.
func TestReadsFetchAheadInOrder(t *testing.T) {
	ctx := context.Background()
	mem := mdtest.Mock()
	data, f := randomFile(t, mem, 40<<20+777, 3)
	dag := &gatedDAG{DAGService: mem, open: make(chan struct{})}
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- writeRange(ctx, dag, f.node, 0, int64(len(data)), 0, func(b []byte) error { out.Write(b); return nil })
	}()
	dag.waitForAsks(t, readAhead)
	close(dag.open)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("wrong bytes")
	}
	if _, peak := dag.counts(); peak > readAhead {
		t.Fatalf("%d blocks asked for at once, want at most %d", peak, readAhead)
	}
}

// A block that cannot be fetched ends the read with its error, after the
// bytes before it and none after.
func TestReadAheadStopsAtAMissingBlock(t *testing.T) {
	ctx := context.Background()
	mem := mdtest.Mock()
	data, f := randomFile(t, mem, 30<<20, 5)
	const missing = 20
	dag := &gatedDAG{DAGService: mem, open: make(chan struct{}), failing: f.node.Links()[missing].Cid}
	close(dag.open)
	var out bytes.Buffer
	err := writeRange(ctx, dag, f.node, 0, int64(len(data)), 0, func(b []byte) error { out.Write(b); return nil })
	if !ipld.IsNotFound(err) {
		t.Fatalf("got %v, want the missing block's error", err)
	}
	if !bytes.Equal(out.Bytes(), data[:missing<<20]) {
		t.Fatalf("wrote %d bytes, want the %d before the missing block", out.Len(), missing<<20)
	}
}

// randomFile adds size random bytes (from seed) to dag as a UnixFS file.
func randomFile(t *testing.T, dag ipld.DAGService, size int, seed uint64) ([]byte, addedFile) {
	t.Helper()
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, seed+1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	f, err := addBytes(context.Background(), dag, data)
	if err != nil {
		t.Fatal(err)
	}
	return data, f
}

// Reads running together hold no more blocks ahead than the shared budget
// plus one each, every read still finishes, and every token comes back.
func TestReadsShareOneReadAheadBudget(t *testing.T) {
	const budget, reads = 4, 3
	saved := aheadBudget
	aheadBudget = make(chan struct{}, budget)
	t.Cleanup(func() { aheadBudget = saved })

	ctx := context.Background()
	mem := mdtest.Mock()
	data, f := randomFile(t, mem, 30<<20, 7)
	dag := &gatedDAG{DAGService: mem, open: make(chan struct{})}
	outs := make([]bytes.Buffer, reads)
	done := make(chan error, reads)
	for i := range reads {
		go func() {
			done <- writeRange(ctx, dag, f.node, 0, int64(len(data)), 0, func(b []byte) error { outs[i].Write(b); return nil })
		}()
	}
	const most = budget + reads
	dag.waitForAsks(t, most)
	close(dag.open)
	for range reads {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for i := range outs {
		if !bytes.Equal(outs[i].Bytes(), data) {
			t.Fatalf("read %d: wrong bytes", i)
		}
	}
	if _, peak := dag.counts(); peak > most {
		t.Fatalf("%d blocks asked for at once, want at most %d", peak, most)
	}
	if n := len(aheadBudget); n != 0 {
		t.Fatalf("%d budget tokens still held after every read ended", n)
	}
}

// A read that fails mid-way gives back every block it took on the budget.
func TestAFailedReadGivesBackItsReadAhead(t *testing.T) {
	ctx := context.Background()
	mem := mdtest.Mock()
	_, f := randomFile(t, mem, 30<<20, 9)
	dag := &gatedDAG{DAGService: mem, open: make(chan struct{}), failing: f.node.Links()[3].Cid}
	close(dag.open)
	err := writeRange(ctx, dag, f.node, 0, 30<<20, 0, func([]byte) error { return nil })
	if !ipld.IsNotFound(err) {
		t.Fatalf("got %v, want the missing block's error", err)
	}
	if n := len(aheadBudget); n != 0 {
		t.Fatalf("%d budget tokens still held after the read failed", n)
	}
	// A writer that fails ends the read the same way.
	err = writeRange(ctx, dag, f.node, 0, 2<<20, 0, func([]byte) error { return io.ErrShortWrite })
	if err != io.ErrShortWrite {
		t.Fatalf("got %v, want the writer's error", err)
	}
	if n := len(aheadBudget); n != 0 {
		t.Fatalf("%d budget tokens still held after the write failed", n)
	}
}
