package image

import (
	"context"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/ipfs/boxo/ipld/merkledag"
	"github.com/ipfs/boxo/ipld/unixfs"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// rangeWindow is how many sibling blocks a range read asks for at once:
// enough to keep a peer busy, few enough that a small range never drags in
// megabytes it does not cover.
const rangeWindow = 4

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
	return writeRange(ctx, ng, nd, off, off+n, w)
}

// writeRange writes [start, end) of the file under nd, offsets relative to
// nd's own content.
func writeRange(ctx context.Context, ng ipld.NodeGetter, nd ipld.Node, start, end int64, w io.Writer) error {
	if start >= end {
		return nil
	}
	switch nd := nd.(type) {
	case *merkledag.RawNode:
		data := nd.RawData()
		if end > int64(len(data)) {
			return fmt.Errorf("block %s is shorter than its parent says", nd.Cid())
		}
		_, err := w.Write(data[start:end])
		return err
	case *merkledag.ProtoNode:
		return writeProtoRange(ctx, ng, nd, start, end, w)
	}
	return fmt.Errorf("%s is not a UnixFS file block", nd.Cid())
}

type childSpan struct {
	c          cid.Cid
	start, end int64 // relative to the child
}

func writeProtoRange(ctx context.Context, ng ipld.NodeGetter, nd *merkledag.ProtoNode, start, end int64, w io.Writer) error {
	fsn, err := unixfs.FSNodeFromBytes(nd.Data())
	if err != nil {
		return err
	}
	pos := int64(0)
	if inline := fsn.Data(); len(inline) > 0 {
		if start < int64(len(inline)) {
			if _, err := w.Write(inline[start:min(end, int64(len(inline)))]); err != nil {
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
			spans = append(spans, childSpan{c: l.Cid, start: s - pos, end: e - pos})
		}
		pos += size
	}
	for len(spans) > 0 {
		batch := spans[:min(rangeWindow, len(spans))]
		spans = spans[len(batch):]
		nodes, err := getAll(ctx, ng, batch)
		if err != nil {
			return err
		}
		for _, s := range batch {
			if err := writeRange(ctx, ng, nodes[s.c.KeyString()], s.start, s.end, w); err != nil {
				return err
			}
		}
	}
	return nil
}

// getAll fetches a window of children concurrently.
func getAll(ctx context.Context, ng ipld.NodeGetter, spans []childSpan) (map[string]ipld.Node, error) {
	cids := make([]cid.Cid, len(spans))
	for i, s := range spans {
		cids[i] = s.c
	}
	got := map[string]ipld.Node{}
	for res := range ng.GetMany(ctx, cids) {
		if res.Err != nil {
			return nil, res.Err
		}
		got[res.Node.Cid().KeyString()] = res.Node
	}
	for _, c := range cids {
		if _, ok := got[c.KeyString()]; !ok {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			return nil, ipld.ErrNotFound{Cid: c}
		}
	}
	return got, nil
}
