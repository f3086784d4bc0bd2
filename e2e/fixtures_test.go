package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// Each fixture is written fresh into the test's temp dir, so a test may
// corrupt or delete it freely. Generation is cheap: the hello binaries are
// compiled once per run and cached by testimage.

func helloLayout(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	if err := testimage.WriteHello(dir, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	return dir
}

// manyLayout is a layout of 3000 layers, whose blobs/sha256 an import
// shards.
func manyLayout(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "many")
	if err := testimage.WriteManyLayers(dir, 3000, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	return dir
}

func multiLayout(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "multi")
	if err := testimage.WriteMulti(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func randomLayout(t testing.TB, mibs int, seed uint64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "random")
	if err := testimage.WriteRandom(dir, mibs, seed, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	return dir
}

// ociArchive tars the layout at dir into an oci-archive file.
func ociArchive(t testing.TB, dir string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := testimage.WriteOCIArchive(&buf, dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "oci-archive.tar")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func digests(t testing.TB, dir string) testimage.ImageDigests {
	t.Helper()
	d, err := testimage.Digests(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
