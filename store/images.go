package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
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
type Images struct{ ds ds.Datastore }

func imageKey(root cid.Cid) ds.Key {
	// Keyed by multihash so that CIDv0/v1 spellings of one root collide.
	return imagesPrefix.ChildString(cid.NewCidV1(root.Type(), root.Hash()).String())
}

// Put records (or replaces) an image.
func (im *Images) Put(ctx context.Context, rec ImageRecord) error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := im.ds.Put(ctx, imageKey(rec.Root), raw); err != nil {
		return fmt.Errorf("record image %s: %w", rec.Root, err)
	}
	return nil
}

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
