package testimage

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// HelloLine is what the hello image prints, newline excluded.
	HelloLine = "hello from imgp2p"
	// HelloRef is the ref.name annotation of the hello image in its layout.
	HelloRef = "imgp2p-test/hello:v1"
)

const helloSource = `package main

import "os"

func main() { os.Stdout.WriteString("` + HelloLine + `\n") }
`

var helloBinaries sync.Map // goarch → func() ([]byte, error), built once per process

// HelloBinary compiles the hello program as a static linux/goarch executable.
// -trimpath, -buildvcs=false and stripped symbols leave no path, VCS stamp
// or build-machine detail in it, so the bytes depend only on the toolchain.
func HelloBinary(goarch string) ([]byte, error) {
	f, _ := helloBinaries.LoadOrStore(goarch, sync.OnceValues(func() ([]byte, error) {
		return buildHello(goarch)
	}))
	return f.(func() ([]byte, error))()
}

func buildHello(goarch string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "imgp2p-hello-src-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	files := map[string]string{
		"go.mod":  "module imgp2p-test/hello\n\ngo 1.22\n",
		"main.go": helloSource,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return nil, err
		}
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, ".")
	cmd.Dir = dir
	// The caller's GOFLAGS or workspace must not leak into a build that has
	// to be reproducible; GOTOOLCHAIN=local forbids a toolchain download.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch,
		"GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local", "GO111MODULE=on")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building hello for %s: %v\n%s", goarch, err, msg)
	}
	return os.ReadFile(out)
}

// HelloImage is the hello program as a one-layer image for linux/goarch,
// with Entrypoint ["/hello"].
func HelloImage(goarch string) (v1.Image, error) {
	bin, err := HelloBinary(goarch)
	if err != nil {
		return nil, err
	}
	var gz bytes.Buffer
	if err := gzipTarFile(&gz, gzip.BestCompression, "hello", 0o755, int64(len(bin)), bytes.NewReader(bin)); err != nil {
		return nil, fmt.Errorf("packing hello layer: %w", err)
	}
	// The opener hands over our gzip stream as is: ggcr must not recompress
	// it, or the layer digest would depend on ggcr's gzip settings.
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gz.Bytes())), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, err
	}
	return newImage(layer, goarch, []string{"/hello"})
}

// WriteHello writes an OCI layout holding the hello image for linux/goarch,
// tagged HelloRef, at dir (which must not hold a layout already).
func WriteHello(dir, goarch string) error {
	img, err := HelloImage(goarch)
	if err != nil {
		return err
	}
	return writeImageLayout(dir, img, HelloRef)
}
