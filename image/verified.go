package image

import (
	v1 "github.com/google/go-containerregistry/pkg/v1"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ipfs/go-cid"
)

// verifiedBlobs remembers which blob files this process has already read
// whole and found to match their digest. A file's blocks are named by
// their hashes and never change, so the same file read again gives the
// same bytes: re-hashing every request for a popular layer would only
// burn a core. Reads of files not in the set are verified as usual.
var verifiedBlobs, _ = lru.New[string, struct{}](8192)

func verifiedKey(file cid.Cid, d v1.Descriptor) string {
	return file.KeyString() + d.Digest.String()
}

func isVerified(file cid.Cid, d v1.Descriptor) bool {
	return verifiedBlobs.Contains(verifiedKey(file, d))
}

func markVerified(file cid.Cid, d v1.Descriptor) {
	verifiedBlobs.Add(verifiedKey(file, d), struct{}{})
}
