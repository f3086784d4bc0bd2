package image

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// readAhead is how many blocks a read fetches ahead of the one it writes:
// 16 keep one peer busy (as node's solo fetches find). A read only ever
// asks for blocks its range covers, so the window costs memory (up to
// readAhead blocks held per level of the file's DAG: 16 chunks, and 16
// small inner nodes above them), never bytes it does not need. Fetching
// 4 at a time and writing them before asking for more, a gateway with an
// empty repo served a 256 MiB image from a loopback peer at 70 MB/s.
const readAhead = 16

// sharedAhead is how many blocks every read in the process together may
// hold fetched ahead of the one it writes, beyond one each. A block read
// ahead waits in memory until its client takes the bytes before it, so
// without a shared bound a gateway held up to readAhead blocks for every
// slow client at once: 40 streams could pin 640 MiB. One fetch in flight
// of its own per read (per level of its DAG) keeps every read moving
// however the others hold the rest.
const sharedAhead = 128

// aheadBudget holds a token for each block read ahead on the shared
// allowance.
var aheadBudget = make(chan struct{}, sharedAhead)

// hashBacklog is how many blocks a whole-blob read hands its hasher
// before waiting for it.
const hashBacklog = 4

// BlobSize returns the size of blob h as stored.
func (r *Root) BlobSize(ctx context.Context, h v1.Hash) (int64, error) {
	nd, err := r.blobNode(ctx, h)
	if err != nil {
		return 0, err
	}
	return fileSize(nd)
}

func fileSize(nd ipld.Node) (int64, error) {
	switch nd := nd.(type) {
	case *merkledag.RawNode:
		return int64(len(nd.RawData())), nil
	case *merkledag.ProtoNode:
		fsn, err := unixfs.FSNodeFromBytes(nd.Data())
		if err != nil {
			return 0, err
		}
		return int64(fsn.FileSize()), nil
	}
	return 0, fmt.Errorf("%s is not a UnixFS file", nd.Cid())
}

// WriteBlobRange writes bytes [off, off+n) of blob h to w, fetching only
// the blocks that cover them. (uio's DagReader preloads ten siblings on
// every seek, so a 4 KiB read could fetch 10 MiB.) Every block is checked
// against its CID on arrival; the blob's digest cannot be checked on part
// of it.
func (r *Root) WriteBlobRange(ctx context.Context, h v1.Hash, off, n int64, w io.Writer) error {
	nd, err := r.blobNode(ctx, h)
	if err != nil {
		return err
	}
	ng := merkledag.NewSession(ctx, r.dag)
	return writeRange(ctx, ng, nd, off, off+n, 0, func(b []byte) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteBlob writes blob d whole to w, block by block as they arrive,
// hashing on another core while writing, and holds back the last block
// until the blob's size and digest are checked: a receiver never gets the
// complete body of a blob that is not what d promises.
func (r *Root) WriteBlob(ctx context.Context, d v1.Descriptor, w io.Writer) error {
	nd, err := r.blobNode(ctx, d.Digest)
	if err != nil {
		return err
	}
	size, err := fileSize(nd)
	if err != nil {
		return err
	}
	if size != d.Size {
		return fmt.Errorf("blob %s: stored file has %d bytes, descriptor says %d", d.Digest, size, d.Size)
	}
	ng := merkledag.NewSession(ctx, r.dag)
	if isVerified(ctx, nd.Cid(), d) {
		return writeRange(ctx, ng, nd, 0, d.Size, 0, func(b []byte) error {
			_, err := w.Write(b)
			return err
		})
	}
	v := newVerifiedWriter(w, d)
	defer v.stop()
	if d.Size == 0 {
		err = v.write(nil)
	} else {
		err = writeRange(ctx, ng, nd, 0, d.Size, 0, v.write)
	}
	if err == nil && v.n != d.Size {
		// The digest is checked at the last byte; a file that ends early
		// never got there.
		err = fmt.Errorf("blob %s: stored file ends after %d of the %d bytes its descriptor promises", d.Digest, v.n, d.Size)
	}
	if err == nil {
		markVerified(ctx, nd.Cid(), d)
	}
	return err
}

// verifiedWriter passes blocks on while a goroutine hashes them.
type verifiedWriter struct {
	w       io.Writer
	d       v1.Descriptor
	n       int64
	blocks  chan []byte
	summed  chan []byte
	stopped bool
}

func newVerifiedWriter(w io.Writer, d v1.Descriptor) *verifiedWriter {
	v := &verifiedWriter{w: w, d: d, blocks: make(chan []byte, hashBacklog), summed: make(chan []byte, 1)}
	go func() {
		h := sha256.New()
		for b := range v.blocks {
			h.Write(b)
		}
		v.summed <- h.Sum(nil)
	}()
	return v
}

func (v *verifiedWriter) write(b []byte) error {
	v.n += int64(len(b))
	if v.n > v.d.Size {
		return fmt.Errorf("blob %s: more than the %d bytes its descriptor promises", v.d.Digest, v.d.Size)
	}
	v.blocks <- b
	if v.n == v.d.Size {
		v.stop()
		if got := fmt.Sprintf("%x", <-v.summed); got != v.d.Digest.Hex {
			return fmt.Errorf("blob %s: content digest is sha256:%s", v.d.Digest, got)
		}
	}
	_, err := v.w.Write(b)
	return err
}

func (v *verifiedWriter) stop() {
	if !v.stopped {
		v.stopped = true
		close(v.blocks)
	}
}

// maxFileDepth bounds how many levels of nodes a file may have above its
// leaves. A read takes a stack frame per level, and a chain of one-link
// nodes costs a DAG's author a few dozen bytes a level: 200,000 levels
// overflowed a 64 MiB stack, a fatal error that ends the process. Real
// files are shallow: 1024 links a node (or Kubo's 174) reach petabytes
// within six levels, and a trickle DAG (ipfs add --trickle) repeats each
// depth four times, so a terabyte of it stays under a dozen.
const maxFileDepth = 64

// writeRange hands [start, end) of the file under nd to write, in order,
// a block's worth at a time; offsets are relative to nd's own content, and
// depth is nd's distance from the file's root.
func writeRange(ctx context.Context, ng ipld.NodeGetter, nd ipld.Node, start, end int64, depth int, write func([]byte) error) error {
	if start >= end {
		return nil
	}
	if depth > maxFileDepth {
		return fmt.Errorf("block %s: file nested deeper than %d levels", nd.Cid(), maxFileDepth)
	}
	switch nd := nd.(type) {
	case *merkledag.RawNode:
		data := nd.RawData()
		if end > int64(len(data)) {
			return fmt.Errorf("block %s is shorter than its parent says", nd.Cid())
		}
		return write(data[start:end])
	case *merkledag.ProtoNode:
		return writeProtoRange(ctx, ng, nd, start, end, depth, write)
	}
	return fmt.Errorf("%s is not a UnixFS file block", nd.Cid())
}

type childSpan struct {
	c          cid.Cid
	size       int64 // the child's size, as its parent says
	start, end int64 // relative to the child
}

func writeProtoRange(ctx context.Context, ng ipld.NodeGetter, nd *merkledag.ProtoNode, start, end int64, depth int, write func([]byte) error) error {
	fsn, err := unixfs.FSNodeFromBytes(nd.Data())
	if err != nil {
		return err
	}
	pos := int64(0)
	if inline := fsn.Data(); len(inline) > 0 {
		if start < int64(len(inline)) {
			if err := write(inline[start:min(end, int64(len(inline)))]); err != nil {
				return err
			}
		}
		pos = int64(len(inline))
	}
	links := nd.Links()
	if len(links) != fsn.NumChildren() {
		return fmt.Errorf("block %s: %d links but %d block sizes", nd.Cid(), len(links), fsn.NumChildren())
	}
	var spans []childSpan
	for i, l := range links {
		size := int64(fsn.BlockSize(i))
		if s, e := max(start, pos), min(end, pos+size); s < e {
			spans = append(spans, childSpan{c: l.Cid, size: size, start: s - pos, end: e - pos})
		}
		pos += size
	}
	// Sizes come from the node, which whoever built the DAG wrote: a file
	// size its parts do not add up to would end a read short of what a
	// Content-Length already promised.
	if pos != int64(fsn.FileSize()) {
		return fmt.Errorf("block %s: file size %d, but its parts add up to %d", nd.Cid(), fsn.FileSize(), pos)
	}
	return writeChildren(ctx, ng, spans, depth+1, write)
}

func checkChildSize(nd ipld.Node, want int64) error {
	got, err := fileSize(nd)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("block %s: %d bytes, but its parent says %d", nd.Cid(), got, want)
	}
	return nil
}

type fetched struct {
	nd  ipld.Node
	err error
}

// writeChildren writes each span's part of its child in order, fetching up
// to readAhead children ahead of the one being written: the first on an
// allowance of its own, the rest as aheadBudget allows. depth is the
// children's distance from the file's root.
func writeChildren(ctx context.Context, ng ipld.NodeGetter, spans []childSpan, depth int, write func([]byte) error) error {
	ctx, cancel := context.WithCancel(ctx)
	// Tokens the fetch loop took for spans never written go back once it
	// has stopped (started is its count, read after fetching.Wait).
	// Every block taken from the shared budget is given back, however the
	// read ends.
	shared := make([]bool, len(spans))
	var started, written int
	defer func() {
		for i := written; i < started; i++ {
			if shared[i] {
				<-aheadBudget
			}
		}
	}()
	// On an early return, the fetches still under way end with ctx, and
	// the read returns only once they have: nothing it started outlives it.
	var fetching sync.WaitGroup
	defer fetching.Wait()
	defer cancel()
	results := make([]chan fetched, len(spans))
	for i := range results {
		results[i] = make(chan fetched, 1)
	}
	// A slot is taken to fetch a child and given back once it is written;
	// own is the one fetch ahead no other read can hold up. The loop
	// starting fetches is itself counted, so none is added to the group
	// once Wait may have started.
	slots := make(chan struct{}, readAhead)
	own := make(chan struct{}, 1)
	fetching.Go(func() {
		for i, s := range spans {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case own <- struct{}{}:
			default:
				select {
				case own <- struct{}{}:
				case aheadBudget <- struct{}{}:
					shared[i] = true
				case <-ctx.Done():
					<-slots
					return
				}
			}
			started++
			fetching.Go(func() {
				nd, err := ng.Get(ctx, s.c)
				results[i] <- fetched{nd, err}
			})
		}
	})
	for i, s := range spans {
		var f fetched
		select {
		case f = <-results[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if f.err != nil {
			return f.err
		}
		// A child holding more than its parent says would be cut to that
		// size here, where OpenBlob's reader (and so pull and verify)
		// reads it whole and fails: both refuse it.
		err := checkChildSize(f.nd, s.size)
		if err == nil {
			err = writeRange(ctx, ng, f.nd, s.start, s.end, depth, write)
		}
		written++
		if shared[i] {
			<-aheadBudget
		} else {
			<-own
		}
		<-slots
		if err != nil {
			return err
		}
	}
	return nil
}
