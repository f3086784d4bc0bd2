package testimage

import (
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RandomRef is the ref.name annotation of a WriteRandom layout.
const RandomRef = "imgp2p-test/random:v1"

const mib = 1 << 20

// randomLayer is a gzip layer holding one file of mibs MiB of ChaCha8 output
// for seed. ChaCha8's stream is fixed by its spec, so the bytes are the same
// on every Go version. gzip stores rather than compresses: the data is
// incompressible anyway and storing keeps a 100 MiB layer cheap to produce.
func randomLayer(mibs int, seed uint64) (v1.Layer, error) {
	size := int64(mibs) * mib
	// ggcr opens a layer several times (digest, diffID, write); each open
	// regenerates the stream rather than keeping it in memory or on disk.
	open := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			var key [32]byte
			binary.LittleEndian.PutUint64(key[:], seed)
			src := rand.NewChaCha8(key)
			pw.CloseWithError(gzipTarFile(pw, gzip.NoCompression, "random.bin", 0o644, size, src))
		}()
		return pr, nil
	}
	return tarball.LayerFromOpener(open, tarball.WithMediaType(types.OCILayer))
}

// RandomImage is a linux/goarch image whose only layer is mibs MiB of
// incompressible data from seed: big enough to span many 1 MiB blocks.
func RandomImage(mibs int, seed uint64, goarch string) (v1.Image, error) {
	layer, err := randomLayer(mibs, seed)
	if err != nil {
		return nil, fmt.Errorf("random layer: %w", err)
	}
	return newImage(layer, goarch, []string{"/random.bin"})
}

// WriteRandom writes an OCI layout holding RandomImage, tagged RandomRef.
func WriteRandom(dir string, mibs int, seed uint64, goarch string) error {
	img, err := RandomImage(mibs, seed, goarch)
	if err != nil {
		return err
	}
	return writeImageLayout(dir, img, RandomRef)
}
