package store

import (
	"context"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
)

var verifiedPrefix = ds.NewKey("/imgp2p/verified")

// VerifiedBlobs records blob files that have been read whole and found to
// match a digest. A file's CID names its bytes, so the match holds for as
// long as the file exists, and for any later copy of it: a record outlives
// a collected file harmlessly. Damage to the blocks on disk is caught as
// they are read (see damageCheckingBlockstore), not by this.
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
