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
	b, err := p.readAt(c, loc)
	if errors.Is(err, blockstore.ErrHashMismatch) {
		// Deleted, or stored again, as it was read (gc, repair): the record
		// is gone, not damaged.
		now, lerr := p.locate(ctx, c)
		if ipld.IsNotFound(lerr) {
			return nil, ipld.ErrNotFound{Cid: c}
		}
		if lerr == nil && now != loc {
			return p.readAt(c, now)
		}
	}
	return b, err
}

// readAt reads and checks c's record at loc.
func (p *packBlocks) readAt(c cid.Cid, loc location) (blocks.Block, error) {
	if loc.length > maxPackBlock {
		return nil, damaged(c, fmt.Sprintf("its index entry says %d bytes", loc.length))
	}
	want := recordHeaderSize + loc.length
	direct := p.firstRead(c)
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
	}
	file, err := os.Open(name)
	return file, false, err
}

// firstRead reports whether c is read for the first time since this
// process wrote it, and forgets it. That first read goes around the page
// cache as the write did: the record's pages are not cached, and filling
// the cache costs more CPU than the read (1 GiB of 1 MiB blocks, cold:
// 0.6-1.2 s buffered, 0.25 s direct). It is the read of a pull's chunks
// fetched before the tar writer asked for them, or of a chunk served on
// to another puller. Later reads go through the cache, which then serves
// a block asked for again and again (a gateway, a seeder) from memory.
func (p *packBlocks) firstRead(c cid.Cid) bool {
	p.unreadMu.Lock()
	defer p.unreadMu.Unlock()
	_, ok := p.unread[string(c.Hash())]
	delete(p.unread, string(c.Hash()))
	return ok
}

// wrote notes a block not read since it was written.
func (p *packBlocks) wrote(c cid.Cid) {
	p.unreadMu.Lock()
	defer p.unreadMu.Unlock()
	// At the cap (8 GiB of chunks written and not read back: a daemon
	// that pins more than it serves) the list starts again, so it follows
	// what was written lately; the first read of a block forgotten so fills
	// the page cache: slower, never wrong.
	if p.unread == nil || len(p.unread) >= maxUnread {
		p.unread = map[string]struct{}{}
	}
	p.unread[string(c.Hash())] = struct{}{}
}

// maxUnread bounds the blocks kept for firstRead: about 1 MB of memory.
const maxUnread = 8192
