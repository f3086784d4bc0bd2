package store

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

var verifiedPrefix = ds.NewKey("/imgp2p/verified")

// VerifiedBlobs records blob files that have been read whole and found to
// match a digest. A file's CID names its bytes, so the match holds for as
// long as the file exists; gc drops the records of the files it collects,
// which would otherwise pile up with every image the repo ever held.
// Damage to the blocks on disk is caught as they are read (see
// damageCheckingBlockstore), not by this.
type VerifiedBlobs struct{ ds ds.Datastore }

func verifiedKey(file cid.Cid, digest string) ds.Key {
	return verifiedPrefix.ChildString(cidKeyName(file)).ChildString(digest)
}

// Has reports whether file was found to match digest (sha256:hex).
func (v *VerifiedBlobs) Has(ctx context.Context, file cid.Cid, digest string) bool {
	ok, err := v.ds.Has(ctx, verifiedKey(file, digest))
	return err == nil && ok
}

// Add records that file matches digest.
func (v *VerifiedBlobs) Add(ctx context.Context, file cid.Cid, digest string) error {
	return v.ds.Put(ctx, verifiedKey(file, digest), nil)
}

// dropUnkept deletes the records of files whose blocks keep (multihashes)
// does not hold: gc's sweep has just deleted them.
func (v *VerifiedBlobs) dropUnkept(ctx context.Context, keep map[string]bool) error {
	res, err := v.ds.Query(ctx, query.Query{Prefix: verifiedPrefix.String(), KeysOnly: true})
	if err != nil {
		return err
	}
	// Deleted once the query is done: the query reads in a transaction of
	// its own.
	var drop []ds.Key
	for e := range res.Next() {
		if e.Error != nil {
			res.Close()
			return e.Error
		}
		k := ds.RawKey(e.Key)
		file, err := cid.Decode(k.Parent().BaseNamespace())
		if err == nil && !keep[string(file.Hash())] {
			drop = append(drop, k)
		}
	}
	res.Close()
	if len(drop) == 0 {
		return nil
	}
	b, err := batch(ctx, v.ds)
	if err != nil {
		return err
	}
	for _, k := range drop {
		if err := b.Delete(ctx, k); err != nil {
			return err
		}
	}
	if err := b.Commit(ctx); err != nil {
		return fmt.Errorf("drop verified records of collected files: %w", err)
	}
	return nil
}
