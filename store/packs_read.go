package store

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
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
	direct := p.readsDirect(c, forPeer(ctx))
	b, err := p.readAt(c, loc, direct)
	if errors.Is(err, blockstore.ErrHashMismatch) {
		// Deleted, or stored again, as it was read (gc, repair): the record
		// is gone, not damaged.
		now, lerr := p.locate(ctx, c)
		if ipld.IsNotFound(lerr) {
			return nil, ipld.ErrNotFound{Cid: c}
		}
		if lerr == nil && now != loc {
			return p.readAt(c, now, direct)
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
// and notes it. Filling the cache costs more CPU than the read itself
// (1 GiB of 1 MiB blocks, cold: 0.6-1.2 s buffered, 0.25 s direct), so
// a block goes around it on
//   - its first read after this process wrote it, which left nothing
//     cached: a pull's chunk fetched before the tar writer asked for it,
//     or passed on to another puller;
//   - the first time a peer asks this process for it (see ForPeer):
//     bitswap reads many blocks at a time, so the disk's latency hides
//     behind the others. A seeder's first serving of an image it pushed
//     then leaves the cache alone, its second fills it.
//
// Other reads go through the cache, which then serves a block asked for
// again and again (a gateway, a seeder of many) from memory. So do local
// first reads of blocks this process did not write: a local reader (a
// tar writer, the gateway) takes one block at a time, and would wait for
// the disk at every one where the kernel's readahead runs ahead of it.
func (p *packBlocks) readsDirect(c cid.Cid, forPeer bool) bool {
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	_, unread := p.unread[string(c.Hash())]
	delete(p.unread, string(c.Hash()))
	firstForPeer := forPeer && p.served.add(maphash.Bytes(p.tagSeed, c.Hash()))
	return unread || firstForPeer
}

// wrote notes a block written and not yet read.
func (p *packBlocks) wrote(c cid.Cid) {
	p.seenMu.Lock()
	defer p.seenMu.Unlock()
	// At the cap (8 GiB of chunks written and not read back: a daemon
	// that pins more than it serves) the list starts again, so it follows
	// what was written lately; the first read of a block forgotten so fills
	// the page cache: slower, never wrong.
	if p.unread == nil || len(p.unread) >= maxUnread {
		p.unread = map[string]struct{}{}
	}
	p.unread[string(c.Hash())] = struct{}{}
}

// maxUnread bounds the blocks written and not yet read: about 1 MB.
const maxUnread = 8192

// tagSet remembers blocks by a 64-bit hash of their multihash (a
// collision costs one read through the cache, never a wrong byte), in two
// generations: when the newer fills, the older is dropped and the newer
// takes its place. It forgets the blocks added longest ago, half at a
// time, and never all at once, so a seeder serving an image larger than
// a generation (a 32 GiB one) still reads it through the cache from its
// second serving on.
type tagSet struct{ cur, old map[uint64]struct{} }

// tagsPerGeneration: each generation about 0.5 MB, 32 GiB of chunks.
const tagsPerGeneration = 32768

// add notes t and reports whether it is new.
func (s *tagSet) add(t uint64) bool {
	if _, ok := s.cur[t]; ok {
		return false
	}
	_, known := s.old[t]
	if s.cur == nil || len(s.cur) >= tagsPerGeneration {
		s.old, s.cur = s.cur, make(map[uint64]struct{})
	}
	s.cur[t] = struct{}{}
	return !known
}

func (s *tagSet) len() int { return len(s.cur) + len(s.old) }

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
