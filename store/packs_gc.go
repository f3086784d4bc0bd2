package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
)

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
		p.punch(loc.pack, []span{{loc.offset, loc.offset + loc.recordLen()}})
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
// appended to, and punches out of the others every byte no entry names:
// records a crash wrote and never indexed, a torn tail, a record whose
// deletion could not punch it. gc runs it after deleting, with no push or
// pull in flight; a gateway's reads may still store blocks, so a pack
// written to while the sweep looks at the index is left for the next.
func (p *packBlocks) sweep(ctx context.Context) error {
	p.mu.Lock()
	p.sweptAround = map[uint32]bool{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.sweptAround = nil
		p.mu.Unlock()
	}()
	live := map[uint32][]span{}
	err := p.eachIndexEntry(ctx, false, func(e dsq.Entry) error {
		if loc, err := decodeLocation(e.Value); err == nil {
			live[loc.pack] = append(live[loc.pack], span{loc.offset, loc.offset + loc.recordLen()})
		}
		return nil
	})
	if err != nil {
		return err
	}
	afterSweepScan()
	ids, err := p.packIDs()
	if err != nil {
		return err
	}
	// The deletions that emptied these packs go to the disk first, so a
	// power cut cannot bring back entries naming a pack that is gone;
	// before them the packs written meanwhile (a gateway's reads), as
	// Repo.Sync does, so no entry made durable here names bytes that are
	// not.
	if err := p.sync(); err != nil {
		return err
	}
	if err := p.index.Sync(ctx, ds.NewKey("/")); err != nil {
		return err
	}
	var named []uint32
	p.mu.Lock()
	for _, id := range ids {
		if id == p.cur || p.writing[id] > 0 || p.sweptAround[id] {
			continue
		}
		if _, ok := live[id]; ok {
			named = append(named, id)
			continue
		}
		if err := os.Remove(p.packPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			p.mu.Unlock()
			return fmt.Errorf("remove unused block pack: %w", err)
		}
		delete(p.dirty, id)
	}
	p.mu.Unlock()
	// Outside the lock: nothing is appended to a pack once another is
	// current, and punching a repo's worth of gaps takes a while.
	for _, id := range named {
		if err := ctx.Err(); err != nil {
			return err
		}
		p.punch(id, unnamed(p.packPath(id), live[id]))
	}
	return nil
}

// afterSweepScan lets a test index a record where a sweep can miss it.
var afterSweepScan = func() {}

// span is a record's bytes in its pack, [start, end).
type span struct{ start, end int64 }

// unnamed is every byte range of the pack at path outside spans. An
// entry gone stale still names its bytes: they stay, as a live record's.
func unnamed(path string, spans []span) []span {
	info, err := os.Stat(path)
	if err != nil {
		return nil
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	var holes []span
	var from int64
	// To the end of the last page: a torn tail's partial page would
	// otherwise be zeroed, not given back.
	end := roundPage(info.Size())
	for _, s := range append(spans, span{end, end}) {
		if s.start > from {
			holes = append(holes, span{from, s.start})
		}
		from = max(from, s.end)
	}
	return holes
}

// errNoPunch: the filesystem cannot punch holes in a file.
var errNoPunch = errors.New("punching holes not supported")

// punch gives holes in pack id back to the filesystem, unless it has
// refused before.
func (p *packBlocks) punch(id uint32, holes []span) {
	if len(holes) == 0 || p.noPunch.Load() {
		return
	}
	if errors.Is(punchHoles(p.packPath(id), holes), errNoPunch) {
		p.noPunch.Store(true)
	}
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
