package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	ipld "github.com/ipfs/go-ipld-format"
)

// layoutDir reads blobs from an OCI image layout directory, opening each
// file only when the walk reaches it so that unreferenced blobs are never
// read.
type layoutDir struct {
	dag ipld.DAGService
	dir string
}

func readLayoutIndex(dir string) ([]byte, error) {
	raw, err := readSmallFile(filepath.Join(dir, layoutFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI image layout: %w", dir, err)
	}
	var marker struct{ ImageLayoutVersion string }
	if err := json.Unmarshal(raw, &marker); err != nil || marker.ImageLayoutVersion == "" {
		return nil, fmt.Errorf("%s is not an OCI image layout: oci-layout has no imageLayoutVersion", dir)
	}
	index, err := readSmallFile(filepath.Join(dir, indexFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not an OCI image layout: %w", dir, err)
	}
	return index, nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxMetadataSize+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxMetadataSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxMetadataSize)
	}
	return raw, nil
}

func (s *layoutDir) add(ctx context.Context, d v1.Descriptor, keep bool) (addedFile, []byte, error) {
	path := filepath.Join(s.dir, blobsDir, d.Digest.Algorithm, d.Digest.Hex)
	f, err := openRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		return addedFile{}, nil, missingBlob{d.Digest, s.dir}
	}
	if err != nil {
		return addedFile{}, nil, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	defer f.Close()
	// A size mismatch fails before a single byte is stored.
	if st, err := f.Stat(); err == nil && st.Size() != d.Size {
		return addedFile{}, nil, fmt.Errorf("blob %s: file has %d bytes, descriptor says %d (corrupt blob)", d.Digest, st.Size(), d.Size)
	}
	// One byte past the size is enough to fail the size check, should the
	// file grow while it is read.
	var r io.Reader = io.LimitReader(f, d.Size+1)
	var kept bytes.Buffer
	if keep {
		r = io.TeeReader(r, &kept)
	}
	added, err := addFile(ctx, s.dag, r)
	if err != nil {
		return addedFile{}, nil, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if err := added.verify(d); err != nil {
		return addedFile{}, nil, err
	}
	return added, kept.Bytes(), nil
}

// openRegular opens a layout file, refusing anything but a regular file
// (symlinks are followed): a named pipe would block the open for good, and
// a device (/dev/urandom) never ends. The stat before the open keeps
// devices unopened; the one after it is of what was opened, for a file
// swapped for a pipe in between, which O_NONBLOCK opens at once.
func openRegular(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is %s, not a regular file", path, fileKind(st.Mode()))
	}
	betweenStatAndOpen(path)
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if st, err = f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s is %s, not a regular file", path, fileKind(st.Mode()))
	}
	return f, nil
}

// betweenStatAndOpen lets a test swap the file in the window.
var betweenStatAndOpen = func(string) {}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "special (" + m.Type().String() + ")"
}
