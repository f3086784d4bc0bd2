package image

import (
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// checkDigest accepts only sha256 digests with 64 lowercase hex digits: a
// digest names a path in the layout, so anything looser could name a path
// outside blobs/sha256.
func checkDigest(h v1.Hash) error {
	if h == (v1.Hash{}) {
		return fmt.Errorf("no digest")
	}
	if h.Algorithm != "sha256" {
		return fmt.Errorf("unsupported digest algorithm %q (only sha256)", h.Algorithm)
	}
	if len(h.Hex) != 64 || strings.Trim(h.Hex, "0123456789abcdef") != "" {
		return fmt.Errorf("malformed digest %q", h.String())
	}
	return nil
}

// checkDescriptor validates what a descriptor says before anything uses it.
func checkDescriptor(d v1.Descriptor) error {
	if err := checkDigest(d.Digest); err != nil {
		return err
	}
	if d.Size < 0 {
		return fmt.Errorf("blob %s: negative size %d", d.Digest, d.Size)
	}
	return nil
}
