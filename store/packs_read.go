package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// get reads c's record and checks it against the block it must be.
func (p *packBlocks) get(ctx context.Context, c cid.Cid) (blocks.Block, error) {
	loc, err := p.locate(ctx, c)
	if err != nil {
		return nil, err
	}
	b, err := p.readAt(c, loc, p.readsDirect(c, forPeer(ctx)))
	if errors.Is(err, blockstore.ErrHashMismatch) {
		// Deleted, or stored again, as it was read (gc, repair): the record
		// is gone, not damaged.
		now, lerr := p.locate(ctx, c)
		if ipld.IsNotFound(lerr) {
			return nil, ipld.ErrNotFound{Cid: c}
		}
		if lerr == nil && now != loc {
			return p.readAt(c, now, false)
		}
	}
	return b, err
}

// readAt reads and checks c's record at loc, around the page cache when
// direct and possible.
func (p *packBlocks) readAt(c cid.Cid, loc location, direct bool) (blocks.Block, error) {
	if loc.length > maxPackBlock {
		return nil, damaged(c, fmt.Sprintf("its index entry says %d bytes", loc.length))
	}
	want := recordHeaderSize + loc.length
	for {
		file, isDirect, err := p.open(loc.pack, direct)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, damaged(c, "its pack file is missing")
		}
		if err != nil {
			return nil, err
		}
		var buf []byte
		if isDirect {
			buf = alignedBuffer(int(loc.recordLen()))
		} else {
			buf = make([]byte, want)
		}
		n, err := file.ReadAt(buf, loc.offset)
		file.Close()
		if isDirect && errors.Is(err, syscall.EINVAL) {
			// Direct I/O accepted at open, refused at the read: read
			// through the cache from now on.
			p.buffered.Store(true)
			direct = false
			continue
		}
		if n < want {
			if err == nil || errors.Is(err, io.EOF) {
				return nil, damaged(c, "its pack is cut short")
			}
			return nil, fmt.Errorf("read block %s: %w", c, err)
		}
		data, err := decodeRecord(buf[:want], c)
		if err != nil {
			return nil, damaged(c, err.Error())
		}
		return blocks.NewBlockWithCid(data, c)
	}
}

// open opens a pack for reading, directly when asked and possible.
func (p *packBlocks) open(id uint32, direct bool) (*os.File, bool, error) {
	name := p.packPath(id)
	if direct && !p.buffered.Load() {
		file, err := openDirect(name)
		if !errors.Is(err, errNoDirectIO) {
			return file, true, err
		}
		// Refused by the filesystem (tmpfs; elsewhere than Linux): not
		// asked again for every block a peer wants.
		p.buffered.Store(true)
	}
	file, err := os.Open(name)
	return file, false, err
}

// readsDirect reports whether this read of c goes around the page cache,
// and notes c as read. Filling the cache costs more CPU than the read
// itself (1 GiB of 1 MiB blocks, cold: 0.6-1.2 s buffered, 0.25 s
// direct), so a block goes around it the first time this process reads
// it, when
//   - this process wrote it, which left nothing cached: a pull's chunk
//     fetched before the tar writer asked for it, or passed on to another
//     puller;
//   - or a peer asked for it (see ForPeer), which bitswap does many blocks
//     at a time, so the disk's latency hides behind the others: a
//     seeder's first serving of an image it pushed.
//
// Later reads go through the cache, which then serves a block asked for
// again and again (a gateway, a seeder of many) from memory. Other first
// reads do too: a local reader (a tar writer, the gateway) takes one
// block at a time, and would wait for the disk at every one where the
// kernel's readahead runs ahead of it.
func (p *packBlocks) readsDirect(c cid.Cid, forPeer bool) bool {
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	read, seen := p.seen[string(c.Hash())]
	p.note(c, true)
	return (seen && !read) || (!seen && forPeer)
}

// wrote notes a block written and not yet read.
func (p *packBlocks) wrote(c cid.Cid) {
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	p.note(c, false)
}

func (p *packBlocks) note(c cid.Cid, read bool) {
	// At the cap the list starts again, so it follows the blocks touched
	// lately; a block forgotten so is read through the cache or, for a
	// peer, around it: slower at worst, never wrong.
	if p.seen == nil || len(p.seen) >= maxSeen {
		p.seen = map[string]bool{}
	}
	p.seen[string(c.Hash())] = read
}

// maxSeen bounds the blocks kept for readsDirect: about 1 MB of memory.
const maxSeen = 8192

type forPeerKey struct{}

// ForPeer marks reads made to send blocks to peers (bitswap's): see
// readsDirect.
func ForPeer(ctx context.Context) context.Context {
	return context.WithValue(ctx, forPeerKey{}, true)
}

func forPeer(ctx context.Context) bool {
	v, _ := ctx.Value(forPeerKey{}).(bool)
	return v
}
