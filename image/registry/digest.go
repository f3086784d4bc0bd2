package registry

import (
	"fmt"
	"net/http"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// parseDigest reads a digest from a request path. A malformed one is the
// client's mistake (400 DIGEST_INVALID); a well-formed one in an algorithm
// other than sha256 cannot name anything here, since image roots hold
// sha256 blobs only, so it is unknown (404 with unknownCode), not a
// server failure a client would retry.
func parseDigest(ref, unknownCode string) (v1.Hash, *regError) {
	d, err := v1.NewHash(ref)
	if err != nil {
		return v1.Hash{}, errorf(http.StatusBadRequest, codeDigestInvalid, fmt.Sprintf("%s: %v", ref, err))
	}
	if d.Algorithm != "sha256" {
		return v1.Hash{}, errorf(http.StatusNotFound, unknownCode, fmt.Sprintf("%s: images here hold sha256 content only", ref))
	}
	return d, nil
}
