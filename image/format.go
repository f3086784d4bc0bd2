// Package image converts OCI images to and from imgp2p's DAG format and
// back to the files container tools read.
//
// The format: an image root is a UnixFS directory that is itself an OCI
// image layout —
//
//	oci-layout            {"imageLayoutVersion":"1.0.0"}
//	index.json            the layout's index
//	blobs/sha256/<hex>    every blob reachable from index.json, nothing else
//
// — with every file and directory imported under the UnixFS v1 2025 profile
// (IPIP-499: CIDv1, sha2-256, raw leaves, 1 MiB chunks, 1024 links per node,
// balanced layout, no mode or mtime). Blobs are stored byte for byte, so
// image digests and signatures survive, `ipfs get` of a root yields a valid
// layout, and the same image gives the same root CID everywhere, equal to
// Kubo's `ipfs add -r` of the layout under that profile.
//
// The package works on go-ipld-format DAG services; it knows nothing of how
// blocks travel.
package image

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/types"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
)

// Profile is the UnixFS import profile of every file and directory in an
// image root.
var Profile = uio.UnixFS_v1_2025

func init() {
	// The directory code reads its sharding settings from package globals;
	// file imports pass every parameter explicitly, so a second format with
	// other parameters can live in the same process.
	Profile.ApplyGlobals()
}

const (
	layoutFile    = "oci-layout"
	indexFile     = "index.json"
	blobsDir      = "blobs"
	algorithmDir  = "sha256"
	layoutVersion = `{"imageLayoutVersion":"1.0.0"}`

	// Limits on untrusted metadata, so a hostile source cannot make us
	// buffer or recurse without bound.
	maxMetadataSize = 4 << 20
	maxNesting      = 8
	maxBlobs        = 100000
)

// Annotations that name an image inside a layout.
const (
	AnnotationRefName        = "org.opencontainers.image.ref.name"
	annotationContainerdName = "io.containerd.image.name"
)

// tooDeep says whether a walk down from index.json reaches a blob of type
// mt too deep, depth being the indexes and manifests it passed on the way
// (0 for index.json's entries). An index there is the (depth+1)th nested:
// past maxNesting, refused, as selectManifests counts them. An image
// manifest under maxNesting indexes has its config and layers one level
// below; nothing may be deeper (a manifest naming manifests as layers).
func tooDeep(mt types.MediaType, depth int) error {
	if depth > maxNesting+1 || isIndex(mt) && depth >= maxNesting {
		return fmt.Errorf("image indexes nested deeper than %d", maxNesting)
	}
	return nil
}

func isIndex(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

func isManifest(mt types.MediaType) bool {
	return mt == types.OCIManifestSchema1 || mt == types.DockerManifestSchema2
}
