package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/ipfs/boxo/blockstore"
	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	dsq "github.com/ipfs/go-datastore/query"
	ipld "github.com/ipfs/go-ipld-format"
)

// packBlockMin is the smallest block kept in a pack. Below it badger keeps
// the block: a record's header page would be a large share of it. Image
// chunks are 1 MiB, so nearly all of an image's bytes live in packs.
const packBlockMin = 128 << 10

// packSize is where a pack stops taking new records.
const packSize = 64 << 20

// recordHeaderSize is the page in front of each block's bytes in a pack:
// the bytes then start aligned, as direct I/O needs.
const recordHeaderSize = 4096

// maxPackBlock bounds what a read allocates for one record: bitswap
// carries blocks of at most 2 MiB, and a push cuts 1 MiB.
const maxPackBlock = 4 << 20

// maxRecordHash is the longest multihash a record's header page holds,
// after its magic, length, CRC and the multihash's own length.
const maxRecordHash = recordHeaderSize - 22

// recordMagic opens every record: format 1 of imgp2p's pack records.
var recordMagic = [8]byte{'i', 'm', 'g', 'p', '2', 'p', 'R', 1}

// packBlocks keeps large blocks in pack files under the repo's blocks/
// directory, appended with direct I/O on Linux, around the page cache,
// and indexed in badger (pack, offset, length: 16 bytes a block).
//
// That is the point of them. badger writes its value log through a shared
// mapping, and ext4 takes a write fault on each 4 KiB page's first write;
// a buffered write(2) costs as much per page (delayed allocation, buffer
// heads). Writing 1 GiB of 1 MiB blocks on the development machine cost
// 0.5-1.4 s of CPU through a shared mapping, 2.5-2.8 s as buffered files
// and 0.16 s as direct writes to one file; in a pull, badger's copy into
// its mapping was the puller's largest cost. A file per block
// (go-ds-flatfs's way, Kubo's block store) was tried first: creating 1024
// files and their directories took 1.3 s of CPU per GiB in ext4's inode
// allocator, where a pack takes one inode per 64 MiB.
//
// Each record is a header page (magic, length, CRC32C of the bytes, the
// block's multihash), then the bytes, padded to a page. A record is
// written before its index entry, so an entry never names bytes not yet
// written; the CRC and the multihash catch what the disk does later.
// Deleting a block drops its entry and punches its record out of the pack
// (the space goes back at once); a pack no entry names is removed whole.
type packBlocks struct {
	dir   string
	index ds.Datastore
	meta  ds.Datastore // holds nextPackKey

	mu       sync.Mutex
	cur      uint32 // the pack being appended to, 0 before the first
	curSize  int64
	nextID   uint32
	dirty    map[uint32]bool // packs written since the last sync
	newPacks bool            // pack files created since the last sync
	inflight map[string]chan struct{}
	writing  map[uint32]int // records reserved and not yet indexed, by pack
	// syncErr stays once an fsync of a pack failed: the kernel may have
	// dropped what it could not write, so a later fsync that succeeds
	// would say nothing of it.
	syncErr error

	// buffered is set once direct I/O was refused (a filesystem without
	// it): later writes and reads go through the page cache.
	buffered atomic.Bool

	unreadMu sync.Mutex
	unread   map[string]struct{} // see firstRead
}

// packIndexPrefix is where the index lives in badger, apart from the
// blocks badger keeps itself (under /blocks).
var packIndexPrefix = ds.NewKey("/imgp2p/packs")

// nextPackKey holds the id the next new pack takes, recorded before the
// pack is made (see reserve).
var nextPackKey = ds.NewKey("/imgp2p/pack-next")

func openPackBlocks(ctx context.Context, repo string, d ds.Batching) (*packBlocks, error) {
	p := &packBlocks{
		dir:      filepath.Join(repo, "blocks"),
		index:    namespace.Wrap(d, packIndexPrefix),
		meta:     d,
		dirty:    map[uint32]bool{},
		inflight: map[string]chan struct{}{},
		writing:  map[uint32]int{},
		nextID:   1,
	}
	raw, err := d.Get(ctx, nextPackKey)
	switch {
	case err == nil && len(raw) == 4:
		p.nextID = binary.BigEndian.Uint32(raw)
	case err != nil && !errors.Is(err, ds.ErrNotFound):
		return nil, fmt.Errorf("open block packs: %w", err)
	}
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, fmt.Errorf("open block packs: %w", err)
	}
	ids, err := p.packIDs()
	if err != nil {
		return nil, err
	}
	// A new process appends to a new pack: an old pack's tail may hold a
	// record a killed writer left half written. And the packs are synced
	// with the first sync: a process that ended without one left records
	// whose bytes are on the disk but whose packs' sizes may not be, while
	// badger, replaying its log, makes their entries durable at that sync.
	for _, id := range ids {
		p.nextID = max(p.nextID, id+1)
		p.dirty[id] = true
	}
	return p, nil
}

func (p *packBlocks) packPath(id uint32) string {
	return filepath.Join(p.dir, fmt.Sprintf("%08d.pack", id))
}

func (p *packBlocks) packIDs() ([]uint32, error) {
	entries, err := os.ReadDir(p.dir)
	if err != nil {
		return nil, fmt.Errorf("list block packs: %w", err)
	}
	var ids []uint32
	for _, e := range entries {
		var id uint32
		if n, err := fmt.Sscanf(e.Name(), "%08d.pack", &id); n == 1 && err == nil && strings.HasSuffix(e.Name(), ".pack") {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// location is a record's place: its pack, its offset there, and the
// length of the block's bytes.
type location struct {
	pack   uint32
	offset int64
	length int
}

func (l location) recordLen() int64 { return recordHeaderSize + roundPage(int64(l.length)) }

func roundPage(n int64) int64 {
	return (n + recordHeaderSize - 1) / recordHeaderSize * recordHeaderSize
}

func (l location) encode() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint32(b, l.pack)
	binary.BigEndian.PutUint64(b[4:], uint64(l.offset))
	binary.BigEndian.PutUint32(b[12:], uint32(l.length))
	return b
}

func decodeLocation(b []byte) (location, error) {
	if len(b) != 16 {
		return location{}, fmt.Errorf("pack index entry of %d bytes", len(b))
	}
	return location{
		pack:   binary.BigEndian.Uint32(b),
		offset: int64(binary.BigEndian.Uint64(b[4:])),
		length: int(binary.BigEndian.Uint32(b[12:])),
	}, nil
}

func (p *packBlocks) locate(ctx context.Context, c cid.Cid) (location, error) {
	raw, err := p.index.Get(ctx, dshelp.MultihashToDsKey(c.Hash()))
	if errors.Is(err, ds.ErrNotFound) {
		return location{}, ipld.ErrNotFound{Cid: c}
	}
	if err != nil {
		return location{}, err
	}
	loc, err := decodeLocation(raw)
	if err != nil {
		return location{}, damaged(c, err.Error())
	}
	return loc, nil
}

func (p *packBlocks) has(ctx context.Context, c cid.Cid) (bool, error) {
	return p.index.Has(ctx, dshelp.MultihashToDsKey(c.Hash()))
}

func (p *packBlocks) size(ctx context.Context, c cid.Cid) (int, error) {
	loc, err := p.locate(ctx, c)
	if err != nil {
		return -1, err
	}
	return loc.length, nil
}

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

func (p *packBlocks) put(ctx context.Context, b blocks.Block) error {
	key := dshelp.MultihashToDsKey(b.Cid().Hash())
	release, err := p.claim(ctx, key)
	if release == nil || err != nil {
		return err
	}
	defer release()
	data := b.RawData()
	loc, err := p.reserve(len(data))
	if err == nil {
		defer p.written(loc.pack)
		err = p.writeRecord(loc, b.Cid(), data)
	}
	if errors.Is(err, fs.ErrNotExist) {
		// The pack was removed under us (by hand: sweep spares it); the
		// block goes to a new one.
		p.abandon(loc.pack)
		if loc, err = p.reserve(len(data)); err == nil {
			defer p.written(loc.pack)
			err = p.writeRecord(loc, b.Cid(), data)
		}
	}
	if err != nil {
		return fmt.Errorf("store block %s: %w", b.Cid(), err)
	}
	// Dirty once written, before the entry: a sync between reserve and
	// the write would otherwise sync the pack too early, and the entry,
	// made durable by a later sync of badger, would name bytes no sync
	// covered.
	p.mu.Lock()
	p.dirty[loc.pack] = true
	p.mu.Unlock()
	if err := p.index.Put(ctx, key, loc.encode()); err != nil {
		return fmt.Errorf("store block %s: %w", b.Cid(), err)
	}
	p.wrote(b.Cid())
	return nil
}

// written ends a reservation in pack id: the record is indexed, or never
// will be.
func (p *packBlocks) written(id uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.writing[id]--; p.writing[id] <= 0 {
		delete(p.writing, id)
	}
}

// claim makes this goroutine the one writer of key, unless the block is
// stored already or another writer stores it meanwhile (bitswap can hand
// the same block over twice at once): then it returns a nil release.
// A second record of one block would be space no index entry names.
func (p *packBlocks) claim(ctx context.Context, key ds.Key) (release func(), err error) {
	for {
		if ok, err := p.index.Has(ctx, key); ok || err != nil {
			return nil, err
		}
		p.mu.Lock()
		wait, busy := p.inflight[key.String()]
		if !busy {
			done := make(chan struct{})
			p.inflight[key.String()] = done
			p.mu.Unlock()
			release := func() {
				p.mu.Lock()
				delete(p.inflight, key.String())
				p.mu.Unlock()
				close(done)
			}
			// Look again: a writer that finished between the look above
			// and the slot would otherwise be followed by a second record.
			if ok, err := p.index.Has(ctx, key); ok || err != nil {
				release()
				return nil, err
			}
			return release, nil
		}
		p.mu.Unlock()
		select {
		case <-wait: // stored, or failed: look again
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// reserve places a record of n block bytes at the end of the current
// pack, starting a new pack when it is full.
func (p *packBlocks) reserve(n int) (location, error) {
	loc := location{length: n}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == 0 || p.curSize+loc.recordLen() > packSize {
		// Recorded before the pack is made, and never handed out again:
		// badger's log is written in order, so any entry naming this pack
		// that survives a power cut brings the record with it. Without it
		// a gc that removed the newest pack, its entries' deletions lost
		// to the power cut, would let the next process make a pack of the
		// same id, and the stale entries would name its records.
		next := make([]byte, 4)
		binary.BigEndian.PutUint32(next, p.nextID+1)
		if err := p.meta.Put(context.Background(), nextPackKey, next); err != nil {
			return location{}, err
		}
		if err := p.createPack(p.nextID); err != nil {
			return location{}, err
		}
		p.cur, p.curSize = p.nextID, 0
		p.nextID++
		p.newPacks = true
	}
	loc.pack, loc.offset = p.cur, p.curSize
	p.curSize += loc.recordLen()
	p.writing[loc.pack]++
	return loc, nil
}

// abandon stops appending to pack id.
func (p *packBlocks) abandon(id uint32) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == id {
		p.cur = 0
	}
}

func (p *packBlocks) createPack(id uint32) error {
	f, err := os.OpenFile(p.packPath(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

func (p *packBlocks) writeRecord(loc location, c cid.Cid, data []byte) error {
	name := p.packPath(loc.pack)
	header := alignedPool.Get().(*[]byte)
	defer alignedPool.Put(header)
	encodeRecordHeader(*header, c, data)
	body := data
	if !isAligned(data) {
		padded := alignedBuffer(len(data))
		copy(padded, data)
		body = padded
	}
	if !p.buffered.Load() {
		err := writeDirectAt(name, [][]byte{*header, body}, loc.offset)
		if !errors.Is(err, errNoDirectIO) {
			return err
		}
		p.buffered.Store(true)
	}
	f, err := os.OpenFile(name, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err = f.WriteAt(*header, loc.offset); err == nil {
		_, err = f.WriteAt(body, loc.offset+recordHeaderSize)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// delete drops c's entry and punches its record out of its pack. It
// reports whether c was packed.
func (p *packBlocks) delete(ctx context.Context, c cid.Cid) (bool, error) {
	key := dshelp.MultihashToDsKey(c.Hash())
	raw, err := p.index.Get(ctx, key)
	if errors.Is(err, ds.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := p.index.Delete(ctx, key); err != nil {
		return true, err
	}
	loc, err := decodeLocation(raw)
	if err != nil {
		return true, nil // a damaged entry names no record to punch
	}
	// The space goes back now where the filesystem can punch holes; else
	// when the whole pack is unnamed (sweep). Only a record that is c's:
	// an entry gone stale (a power cut after gc) must not take another.
	if p.recordOf(loc, c) {
		punchHole(p.packPath(loc.pack), loc.offset, loc.recordLen())
	}
	return true, nil
}

// recordOf reports whether the record at loc is c's, by its header.
func (p *packBlocks) recordOf(loc location, c cid.Cid) bool {
	f, err := os.Open(p.packPath(loc.pack))
	if err != nil {
		return false
	}
	defer f.Close()
	header := make([]byte, recordHeaderSize)
	if n, _ := f.ReadAt(header, loc.offset); n < recordHeaderSize {
		return false
	}
	h := c.Hash()
	n := int(binary.BigEndian.Uint16(header[20:]))
	return [8]byte(header[:8]) == recordMagic && n == len(h) && string(header[22:22+n]) == string(h)
}

// sweep removes the packs no index entry names, but the one being
// appended to. gc runs it after deleting, with no block writes in flight.
func (p *packBlocks) sweep(ctx context.Context) error {
	live := map[uint32]bool{}
	err := p.eachIndexEntry(ctx, false, func(e dsq.Entry) error {
		if loc, err := decodeLocation(e.Value); err == nil {
			live[loc.pack] = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	ids, err := p.packIDs()
	if err != nil {
		return err
	}
	// The deletions that emptied these packs go to the disk first, so a
	// power cut cannot bring back entries naming a pack that is gone.
	if err := p.index.Sync(ctx, ds.NewKey("/")); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, id := range ids {
		if live[id] || id == p.cur || p.writing[id] > 0 {
			continue
		}
		if err := os.Remove(p.packPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove unused block pack: %w", err)
		}
		delete(p.dirty, id)
	}
	return nil
}

// sync makes the records written since the last sync durable: their bytes
// went to the disk as they were written; the packs' sizes, and new packs'
// names, are the filesystem's to commit.
func (p *packBlocks) sync() error {
	p.mu.Lock()
	if p.syncErr != nil {
		defer p.mu.Unlock()
		return p.syncErr
	}
	dirty, newPacks := p.dirty, p.newPacks
	p.dirty, p.newPacks = map[uint32]bool{}, false
	p.mu.Unlock()
	var failed error
	for id := range dirty {
		if err := syncFile(p.packPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			failed = err
			break
		}
		delete(dirty, id)
	}
	if failed == nil && newPacks {
		failed = syncFile(p.dir)
	}
	if failed != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.syncErr = fmt.Errorf("sync block packs: %w (the repo must be reopened)", failed)
		return p.syncErr
	}
	return nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// keys sends the CID (raw, as boxo's blockstore does) of every packed block.
func (p *packBlocks) keys(ctx context.Context, out chan<- cid.Cid) error {
	return p.eachIndexEntry(ctx, true, func(e dsq.Entry) error {
		h, err := dshelp.BinaryFromDsKey(ds.RawKey(e.Key))
		if err != nil {
			return nil // not a block's key: nothing a reader could ask for
		}
		select {
		case out <- cid.NewCidV1(cid.Raw, h):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
}

// eachIndexEntry calls fn with every entry of the index, keys only if asked.
func (p *packBlocks) eachIndexEntry(ctx context.Context, keysOnly bool, fn func(dsq.Entry) error) error {
	res, err := p.index.Query(ctx, dsq.Query{KeysOnly: keysOnly})
	if err != nil {
		return err
	}
	defer res.Close()
	for r := range res.Next() {
		if r.Error != nil {
			return r.Error
		}
		if err := fn(r.Entry); err != nil {
			return err
		}
	}
	return nil
}

// alignedPool holds record header pages.
var alignedPool = sync.Pool{New: func() any {
	b := alignedBuffer(recordHeaderSize)
	return &b
}}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func encodeRecordHeader(header []byte, c cid.Cid, data []byte) {
	clear(header)
	copy(header, recordMagic[:])
	binary.BigEndian.PutUint64(header[8:], uint64(len(data)))
	binary.BigEndian.PutUint32(header[16:], crc32.Checksum(data, castagnoli))
	h := c.Hash()
	binary.BigEndian.PutUint16(header[20:], uint16(len(h)))
	copy(header[22:], h)
}

// decodeRecord returns the bytes of c's record, checked.
func decodeRecord(rec []byte, c cid.Cid) ([]byte, error) {
	if [8]byte(rec[:8]) != recordMagic {
		return nil, errors.New("its record does not start as a record does")
	}
	h := c.Hash()
	if n := int(binary.BigEndian.Uint16(rec[20:])); n != len(h) || string(rec[22:22+n]) != string(h) {
		return nil, errors.New("its record holds another block")
	}
	data := rec[recordHeaderSize:]
	if n := binary.BigEndian.Uint64(rec[8:]); n != uint64(len(data)) {
		return nil, fmt.Errorf("its record holds %d bytes, its index entry says %d", n, len(data))
	}
	if crc32.Checksum(data, castagnoli) != binary.BigEndian.Uint32(rec[16:]) {
		return nil, errors.New("its bytes fail their checksum")
	}
	return data, nil
}

// damaged is the error for a record that is not what was written, in the
// words damageCheckingBlockstore uses for the same thing in badger.
func damaged(c cid.Cid, why string) error {
	return fmt.Errorf("block %s: %w: %s (damaged on disk: run imgp2p verify)", c, blockstore.ErrHashMismatch, why)
}
