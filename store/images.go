package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

var imagesPrefix = ds.NewKey("/imgp2p/images")

// ImageRecord describes an image root held in the repo, so that `ls` need
// not walk DAGs to show names, platforms and sizes.
type ImageRecord struct {
	Root      cid.Cid   `json:"-"`
	Names     []string  `json:"names,omitempty"`
	Platforms []string  `json:"platforms,omitempty"`
	Size      int64     `json:"size"`
	Added     time.Time `json:"added"`
}

// Images is the repo's list of image roots.
type Images struct {
	ds ds.Datastore
	// mu makes taking a name from other records and recording the image
	// that takes it one step.
	mu sync.Mutex
}

func imageKey(root cid.Cid) ds.Key {
	return imagesPrefix.ChildString(cidKeyName(root))
}

// cidKeyName names c in a datastore key as CIDv1, so that the CIDv0 and
// v1 spellings of one DAG node find the same record.
func cidKeyName(c cid.Cid) string {
	return cid.NewCidV1(c.Type(), c.Hash()).String()
}

// Put records (or replaces) an image. Its names move to it from images
// recorded with them before, as a docker tag moves to the image built or
// loaded last: pushing a rebuilt app:v1 makes app:v1 name the new image,
// and the old one stays, pinned as it was, under its CID.
func (im *Images) Put(ctx context.Context, rec ImageRecord) error {
	_, err := im.PutUndoable(ctx, rec)
	return err
}

// PutUndoable is Put, and returns undo, which puts back what Put changed:
// the record rec replaced (or none), and the names rec took from other
// records, unless an image recorded since holds them. A push that lists
// its image before pinning it and then fails to pin leaves the repo's
// names as they were, not with a name taken from an older image and
// given to none.
func (im *Images) PutUndoable(ctx context.Context, rec ImageRecord) (undo func(context.Context) error, err error) {
	im.mu.Lock()
	defer im.mu.Unlock()
	others, err := im.List(ctx)
	if err != nil {
		return nil, err
	}
	b, err := batch(ctx, im.ds)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, n := range rec.Names {
		taken[n] = true
	}
	var prev *ImageRecord
	tookFrom := map[string][]string{} // key name of a record: the names taken from it
	for _, o := range others {
		if cidKeyName(o.Root) == cidKeyName(rec.Root) {
			prev = &o
			continue
		}
		kept := slices.DeleteFunc(slices.Clone(o.Names), func(n string) bool { return taken[n] })
		if len(kept) == len(o.Names) {
			continue
		}
		tookFrom[cidKeyName(o.Root)] = slices.DeleteFunc(slices.Clone(o.Names), func(n string) bool { return !taken[n] })
		o.Names = kept
		if err := putRecord(ctx, b, o); err != nil {
			return nil, err
		}
	}
	if err := putRecord(ctx, b, rec); err != nil {
		return nil, err
	}
	if err := b.Commit(ctx); err != nil {
		return nil, fmt.Errorf("record image %s: %w", rec.Root, err)
	}
	return func(ctx context.Context) error { return im.undoPut(ctx, rec.Root, prev, tookFrom) }, nil
}

// undoPut puts back the record of root as prev (deletes it when nil) and
// gives back the names tookFrom lists to their records, each if no image
// but root holds it now.
func (im *Images) undoPut(ctx context.Context, root cid.Cid, prev *ImageRecord, tookFrom map[string][]string) error {
	im.mu.Lock()
	defer im.mu.Unlock()
	cur, err := im.List(ctx)
	if err != nil {
		return err
	}
	held := map[string]bool{}
	for _, o := range cur {
		if cidKeyName(o.Root) != cidKeyName(root) {
			for _, n := range o.Names {
				held[n] = true
			}
		}
	}
	b, err := batch(ctx, im.ds)
	if err != nil {
		return err
	}
	for _, o := range cur {
		back := slices.DeleteFunc(slices.Clone(tookFrom[cidKeyName(o.Root)]), func(n string) bool { return held[n] })
		if len(back) == 0 {
			continue
		}
		o.Names = append(o.Names, back...)
		if err := putRecord(ctx, b, o); err != nil {
			return err
		}
	}
	if prev != nil {
		err = putRecord(ctx, b, *prev)
	} else {
		err = b.Delete(ctx, imageKey(root))
	}
	if err != nil {
		return err
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("restore image records: %w", err)
	}
	return nil
}

func putRecord(ctx context.Context, w ds.Write, rec ImageRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := w.Put(ctx, imageKey(rec.Root), raw); err != nil {
		return fmt.Errorf("record image %s: %w", rec.Root, err)
	}
	return nil
}

// batch writes through one badger transaction where the datastore has
// them, so a name is never on two records, nor on none, after a crash.
func batch(ctx context.Context, d ds.Datastore) (ds.Batch, error) {
	if bd, ok := d.(ds.Batching); ok {
		return bd.Batch(ctx)
	}
	return unbatched{d}, nil
}

// unbatched writes at once, for datastores without batches.
type unbatched struct{ ds.Datastore }

func (unbatched) Commit(context.Context) error { return nil }

// Get returns the record for root, or ok=false.
func (im *Images) Get(ctx context.Context, root cid.Cid) (ImageRecord, bool, error) {
	raw, err := im.ds.Get(ctx, imageKey(root))
	if errors.Is(err, ds.ErrNotFound) {
		return ImageRecord{}, false, nil
	}
	if err != nil {
		return ImageRecord{}, false, err
	}
	rec := ImageRecord{Root: root}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return ImageRecord{}, false, fmt.Errorf("image record %s: %w", root, err)
	}
	return rec, true, nil
}

// Delete forgets an image; its blocks stay until garbage collection.
func (im *Images) Delete(ctx context.Context, root cid.Cid) error {
	return im.ds.Delete(ctx, imageKey(root))
}

// List returns every recorded image, oldest first.
func (im *Images) List(ctx context.Context) ([]ImageRecord, error) {
	res, err := im.ds.Query(ctx, query.Query{Prefix: imagesPrefix.String()})
	if err != nil {
		return nil, err
	}
	defer res.Close()
	var out []ImageRecord
	for e := range res.Next() {
		if e.Error != nil {
			return nil, e.Error
		}
		root, err := cid.Decode(ds.RawKey(e.Key).BaseNamespace())
		if err != nil {
			continue
		}
		rec := ImageRecord{Root: root}
		if err := json.Unmarshal(e.Value, &rec); err != nil {
			return nil, fmt.Errorf("image record %s: %w", root, err)
		}
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Added.Before(out[j].Added) })
	return out, nil
}

// Resolve finds the image a local name refers to: a name it was pushed or
// pulled with ("imgp2p-test/hello:v1"), with ":latest" assumed when the
// name has no tag. Put gives a name to one image only; a name on several
// (recorded by an older imgp2p) is an error listing them.
func (im *Images) Resolve(ctx context.Context, name string) (cid.Cid, error) {
	recs, err := im.List(ctx)
	if err != nil {
		return cid.Undef, err
	}
	want := map[string]bool{name: true}
	if !hasTag(name) {
		want[name+":latest"] = true
	}
	var found []ImageRecord
	for _, r := range recs {
		for _, n := range r.Names {
			if want[n] {
				found = append(found, r)
				break
			}
		}
	}
	switch len(found) {
	case 0:
		return cid.Undef, fmt.Errorf("%q is neither a CID nor the name of an image in the repo (imgp2p ls lists them)", name)
	case 1:
		return found[0].Root, nil
	}
	var choices []string
	for _, r := range found {
		choices = append(choices, fmt.Sprintf("%s (added %s)", r.Root, r.Added.Format(time.RFC3339)))
	}
	return cid.Undef, fmt.Errorf("name %q is ambiguous, it names %d images: %s; use a CID", name, len(found), strings.Join(choices, ", "))
}

// hasTag reports whether a docker-style name ends in :TAG (a colon after
// the last slash, so a registry's port does not count).
func hasTag(name string) bool {
	return strings.LastIndex(name, ":") > strings.LastIndex(name, "/")
}
