package main

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// benchRef names the image in every layout the bench writes (the
// docker-archive tag a pull writes, the crane registry's repository).
const benchRef = "imgp2p-bench/random:v1"

var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// testLayout is an OCI image layout on disk and what it holds.
type testLayout struct {
	dir    string
	mib    int
	layers int
	bytes  int64 // every blob: layers, config, manifest
}

// writeLayout writes a linux image of mib MiB split over layers
// incompressible layers (ChaCha8 output from seed, seed+1, …, gzip-stored
// tars). Layers are generated as they are written, never held in memory,
// so the bench process stays small: Linux carries a parent's peak RSS into
// the children it forks, which would spoil their figures.
func writeLayout(dir string, mib, layers int, seed uint64) testLayout {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	each := mib / layers
	for i := range layers {
		n := each
		if i == layers-1 {
			n = mib - each*(layers-1)
		}
		layer, err := randomLayer(int64(n)<<20, seed+uint64(i))
		check(err, "making a random layer")
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: v1.Time{Time: epoch}, CreatedBy: "imgp2p bench"},
		})
		check(err, "appending a layer")
	}
	cf, err := img.ConfigFile()
	check(err, "reading the config")
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: epoch}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	img, err = mutate.ConfigFile(img, cf)
	check(err, "setting the config")

	p, err := layout.Write(dir, empty.Index)
	check(err, "creating a layout")
	err = p.AppendImage(img,
		layout.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}),
		layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": benchRef}))
	check(err, "writing the layout")
	// The oci-layout file as imgp2p stores it (and as every tool reads
	// it): ggcr indents its copy, which would give Kubo's add another CID.
	err = os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	check(err, "writing oci-layout")
	return testLayout{dir: dir, mib: mib, layers: layers, bytes: blobBytes(dir)}
}

func randomLayer(size int64, seed uint64) (v1.Layer, error) {
	// ggcr opens a layer several times (digest, diffID, write); each open
	// regenerates the same stream.
	open := func() (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			var key [32]byte
			binary.LittleEndian.PutUint64(key[:], seed)
			pw.CloseWithError(gzipTar(pw, size, rand.NewChaCha8(key)))
		}()
		return pr, nil
	}
	return tarball.LayerFromOpener(open, tarball.WithMediaType(types.OCILayer))
}

// gzipTar writes a gzip (stored, not compressed: the data is random) tar
// holding one file of size bytes from r.
func gzipTar(w io.Writer, size int64, r io.Reader) error {
	zw, err := gzip.NewWriterLevel(w, gzip.NoCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: "random.bin", Mode: 0o644, Size: size, ModTime: epoch, Format: tar.FormatUSTAR}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(tw, r, size); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

func blobFiles(dir string) []string {
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	check(err, "listing blobs")
	var out []string
	for _, e := range entries {
		out = append(out, filepath.Join(dir, "blobs", "sha256", e.Name()))
	}
	return out
}

func blobBytes(dir string) int64 {
	var n int64
	for _, f := range blobFiles(dir) {
		info, err := os.Stat(f)
		check(err, "stat of a blob")
		n += info.Size()
	}
	return n
}

// timeSHA256 hashes every blob once, as the least work any push must do,
// and checks each against its name.
func timeSHA256(l testLayout) outcome {
	buf := make([]byte, 1<<20)
	start := time.Now()
	for _, path := range blobFiles(l.dir) {
		f, err := os.Open(path)
		check(err, "opening a blob")
		h := sha256.New()
		_, err = io.CopyBuffer(h, f, buf)
		f.Close()
		check(err, "reading a blob")
		if got := fmt.Sprintf("%x", h.Sum(nil)); got != filepath.Base(path) {
			fatalf("blob %s hashes to %s", path, got)
		}
	}
	return outcome{elapsed: time.Since(start)}
}
