package e2e

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"regexp"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// anyCID matches a base32 CIDv1 anywhere in text.
var anyCID = regexp.MustCompile(`\bbaf[a-z2-7]{50,}\b`)

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// rawCID is the CIDv1 (raw codec, sha2-256) of a block whose sha256 is h:
// multibase "b" + base32(version 1, codec 0x55, sha2-256 0x12, length 32,
// digest). imgp2p stores every blob of up to 1 MiB as exactly that block,
// so the CID of a small blob follows from its OCI digest.
func rawCID(h v1.Hash) string {
	sum, err := hex.DecodeString(h.Hex)
	if err != nil || len(sum) != 32 {
		panic("not a sha256 digest: " + h.String())
	}
	return "b" + lowerBase32.EncodeToString(append([]byte{0x01, 0x55, 0x12, 0x20}, sum...))
}

// unknownCID is a well-formed CID of content nobody has.
func unknownCID() string {
	sum := sha256.Sum256([]byte("imgp2p e2e: content that no repo holds"))
	return rawCID(v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])})
}

// The harness's own CID arithmetic, checked against the stargz-snapshotter
// test vector (docs/ipfs.md) so a failure above is never rawCID's fault.
func TestRawCIDVector(t *testing.T) {
	desc := `{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:80d6aec48c0a74635a5f3dc106328c1673afaa21ed6e1270a9a44de66e8ffa55","size":314,"urls":["ipfs://bafkreiea22xmjdakorrvuxz5yeddfdawoox2uipnnyjhbknejxtg5d72ku"]}`
	sum := sha256.Sum256([]byte(desc))
	got := rawCID(v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])})
	if want := "bafkreie7754qk7fl56ebauawdgfuqqa3kdd7sotvuhsm6wbz3qin6ssw3a"; got != want {
		t.Errorf("rawCID = %s, want %s", got, want)
	}
	if !anyCID.MatchString(got) {
		t.Errorf("anyCID does not match %s", got)
	}
}
