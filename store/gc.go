package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// GCResult says what a collection removed.
type GCResult struct {
	Blocks int64
	Bytes  int64
	// Forgotten are image roots no longer complete, dropped from the list.
	Forgotten []cid.Cid
}

// GC deletes every block not reachable from a pin, then has badger give
// the space back. It holds the GC lock throughout, so no push, pull or pin
// is between storing blocks and pinning them while it runs; it marks
// through the local blockstore only and never fetches. While it waits for
// that lock, ending ctx gives up the wait.
func (r *Repo) GC(ctx context.Context) (GCResult, error) {
	unlock, err := r.gcLock.gcLock(ctx)
	if err != nil {
		return GCResult{}, fmt.Errorf("wait for pushes and pulls in flight: %w", err)
	}
	defer unlock.Unlock(ctx)
	// A damaged table hides keys: pins and pinned nodes would look
	// missing, and what they keep would be swept. Its compaction would
	// then drop every key past the damage for good.
	if err := r.CheckTables(); err != nil {
		return GCResult{}, fmt.Errorf("%w: nothing was deleted; gc does not run on a damaged repo (imgp2p verify lists the damage)", err)
	}
	keep, err := r.markPinned(ctx)
	if err != nil {
		return GCResult{}, err
	}
	var res GCResult
	keys, err := r.Blocks.AllKeysChan(ctx)
	if err != nil {
		return res, err
	}
	for c := range keys {
		if keep[string(c.Hash())] {
			continue
		}
		if ctx.Err() != nil {
			break // the key stream ends on ctx too; the error is returned below
		}
		size, _ := r.Blocks.GetSize(ctx, c)
		if err := r.Blocks.DeleteBlock(ctx, c); err != nil {
			return res, fmt.Errorf("delete %s: %w", c, err)
		}
		res.Blocks++
		res.Bytes += int64(size)
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := r.Verified.dropUnkept(ctx, keep); err != nil {
		return res, err
	}
	if res.Forgotten, err = r.forgetIncomplete(ctx); err != nil {
		return res, err
	}
	if err := r.packs.sweep(ctx); err != nil {
		return res, err
	}
	return res, r.reclaim()
}

// markPinned collects the multihashes of every block under a pin.
func (r *Repo) markPinned(ctx context.Context) (map[string]bool, error) {
	keep := map[string]bool{}
	dag := r.OfflineDAG()
	var walk func(c cid.Cid) error
	walk = func(c cid.Cid) error {
		if keep[string(c.Hash())] {
			return nil
		}
		keep[string(c.Hash())] = true
		if c.Type() == cid.Raw {
			return nil
		}
		nd, err := dag.Get(ctx, c)
		if ipld.IsNotFound(err) {
			// What the node links to is unknown, so sweeping could take
			// blocks the pin needs; Kubo's gc refuses too.
			return fmt.Errorf("pinned block %s is missing, so what it keeps is unknown: nothing was deleted (imgp2p verify names the pinned image; pull it again, or pin rm it)", c)
		}
		if err != nil {
			return fmt.Errorf("read pinned block %s: %w", c, err)
		}
		for _, l := range nd.Links() {
			if err := walk(l.Cid); err != nil {
				return err
			}
		}
		return nil
	}
	for p := range r.Pins.RecursiveKeys(ctx, false) {
		if p.Err != nil {
			return nil, p.Err
		}
		if err := walk(p.Pin.Key); err != nil {
			return nil, err
		}
	}
	for p := range r.Pins.DirectKeys(ctx, false) {
		if p.Err != nil {
			return nil, p.Err
		}
		keep[string(p.Pin.Key.Hash())] = true
	}
	// The pinner's streams end without an error when ctx is done, so a
	// cancelled mark can look complete with pins missing from it: sweeping
	// with it would delete pinned blocks.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return keep, nil
}

// forgetIncomplete drops listed images whose root block is gone.
func (r *Repo) forgetIncomplete(ctx context.Context) ([]cid.Cid, error) {
	recs, err := r.Images.List(ctx)
	if err != nil {
		return nil, err
	}
	var gone []cid.Cid
	for _, rec := range recs {
		if has, err := r.Blocks.Has(ctx, rec.Root); err == nil && !has {
			if err := r.Images.Delete(ctx, rec.Root); err != nil {
				return gone, err
			}
			gone = append(gone, rec.Root)
		}
	}
	return gone, nil
}

// flushMarker is a key written only to be dropped: dropping a prefix that
// holds a key is the one public way to make badger flush its memtables.
var flushMarker = []byte("/imgp2p/gc/flush")

// reclaim gives deleted blocks' space back. Badger only learns a value is
// garbage when a compaction drops it, so: flush the memtables (where the
// deletions sit), compact the tree, then rewrite value-log files until
// none is worth rewriting.
func (r *Repo) reclaim() error {
	// Rewriting copies live blocks through badger's mappings, which the
	// blockstore's own trims never see.
	defer r.ReleaseMappedPages()
	if err := r.sealHeadValueLog(); err != nil {
		return err
	}
	err := r.Datastore.DB.Update(func(txn *badger.Txn) error { return txn.Set(flushMarker, nil) })
	if err != nil {
		return fmt.Errorf("flush datastore: %w", err)
	}
	if err := r.Datastore.DB.DropPrefix(flushMarker); err != nil {
		return fmt.Errorf("flush datastore: %w", err)
	}
	if err := r.Datastore.DB.Flatten(2); err != nil {
		return fmt.Errorf("compact datastore: %w", err)
	}
	for {
		err := r.Datastore.DB.RunValueLogGC(0.1)
		if errors.Is(err, badger.ErrNoRewrite) || errors.Is(err, badger.ErrRejected) {
			return nil // nothing left worth rewriting
		}
		if err != nil {
			return fmt.Errorf("reclaim value log: %w", err)
		}
	}
}
