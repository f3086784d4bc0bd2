package image

import (
	"fmt"
	"strings"

	"github.com/ipfs/go-cid"
)

// ParseCID reads an image root written as CID, ipfs://CID or /ipfs/CID.
func ParseCID(s string) (cid.Cid, error) {
	raw := strings.TrimPrefix(strings.TrimPrefix(s, "ipfs://"), "/ipfs/")
	raw = strings.TrimSuffix(raw, "/")
	if raw == "" || strings.Contains(raw, "/") {
		return cid.Undef, fmt.Errorf("invalid image CID %q: want CID, ipfs://CID or /ipfs/CID", s)
	}
	c, err := cid.Decode(raw)
	if err != nil {
		return cid.Undef, fmt.Errorf("invalid image CID %q: %v", s, err)
	}
	return c, nil
}

// DefaultName is the docker reference an image without a name of its own
// gets, the one imgp2p's registry gateway would serve it under.
func DefaultName(root cid.Cid) string {
	return "localhost:5050/ipfs/" + cid.NewCidV1(root.Type(), root.Hash()).String()
}
