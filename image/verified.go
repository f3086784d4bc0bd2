package image

import (
	"context"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ipfs/go-cid"
)

// A blob file once stored by a push, or read whole, and found to match its
// digest matches it for good: the file's CID names its bytes. Reading it
// again (a pull of an image already in the repo, the gateway serving a
// popular layer) skips the sha256 pass, which was most of the work: an
// offline pull of 1 GiB took 0.80 s and 1.2 s of CPU hashing, 0.40 s and
// 0.65 s without. Damage on disk is still caught block by block as the
// repo reads them, and `imgp2p verify` hashes everything regardless.
//
// verifiedBlobs is this process's memory of such files; a VerifiedSet,
// when one is given, keeps them across processes.
var verifiedBlobs, _ = lru.New[string, struct{}](8192)

// VerifiedSet keeps blob files found to match their digests (sha256:hex).
type VerifiedSet interface {
	Has(ctx context.Context, file cid.Cid, digest string) bool
	Add(ctx context.Context, file cid.Cid, digest string) error
}

var verifiedSet VerifiedSet

// RememberVerified keeps verified blob files in s as well, from now on in
// this process.
func RememberVerified(s VerifiedSet) { verifiedSet = s }

func verifiedKey(file cid.Cid, d v1.Descriptor) string {
	return file.KeyString() + d.Digest.String()
}

func isVerified(ctx context.Context, file cid.Cid, d v1.Descriptor) bool {
	if verifiedBlobs.Contains(verifiedKey(file, d)) {
		return true
	}
	if verifiedSet != nil && verifiedSet.Has(ctx, file, d.Digest.String()) {
		verifiedBlobs.Add(verifiedKey(file, d), struct{}{})
		return true
	}
	return false
}

func markVerified(ctx context.Context, file cid.Cid, d v1.Descriptor) {
	verifiedBlobs.Add(verifiedKey(file, d), struct{}{})
	if verifiedSet != nil {
		// Only a shortcut for later reads: failing to keep it costs a hash.
		_ = verifiedSet.Add(ctx, file, d.Digest.String())
	}
}
