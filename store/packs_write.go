package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
)

// put appends b's record to the pack being filled, then indexes it.
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
	// Noted before the entry makes the block readable: a read between
	// the two would otherwise be undone by the note. (Left by a failed
	// put, the note names nothing and is forgotten in time.)
	p.wrote(b.Cid())
	if err := p.index.Put(ctx, key, loc.encode()); err != nil {
		return fmt.Errorf("store block %s: %w", b.Cid(), err)
	}
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
	if p.sweptAround != nil {
		p.sweptAround[id] = true
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

// alignedPool holds record header pages.
var alignedPool = sync.Pool{New: func() any {
	b := alignedBuffer(recordHeaderSize)
	return &b
}}
