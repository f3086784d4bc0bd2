package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/maphash"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ipfs/boxo/blockstore"
	dshelp "github.com/ipfs/boxo/datastore/dshelp"
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
	// sweptAround is, while a sweep runs, the packs that had a record
	// indexed meanwhile: the sweep's look at the index may have missed
	// it, so they are left alone. nil between sweeps.
	sweptAround map[uint32]bool
	// syncErr stays once an fsync of a pack failed: the kernel may have
	// dropped what it could not write, so a later fsync that succeeds
	// would say nothing of it.
	syncErr error

	// buffered is set once direct I/O was refused (a filesystem without
	// it): later writes and reads go through the page cache.
	buffered atomic.Bool
	// noPunch is set once the filesystem refused to punch a hole: space
	// then comes back with whole packs only, and gc stops asking.
	noPunch atomic.Bool

	// What readsDirect goes by.
	seenMu  sync.Mutex
	unread  map[string]struct{} // written by this process, not yet read
	served  tagSet              // read for a peer by this process
	tagSeed maphash.Seed
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
		tagSeed:  maphash.MakeSeed(),
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
// A query whose context ends closes its results without an error: the
// context's error says the walk did not see every entry (gc's sweep would
// take what it missed for unnamed).
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
	return ctx.Err()
}

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
