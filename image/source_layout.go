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
	f, err := os.Open(path)
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
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return addedFile{}, nil, fmt.Errorf("blob %s is missing from %s", d.Digest, s.dir)
	}
	if err != nil {
		return addedFile{}, nil, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	defer f.Close()
	// A size mismatch fails before a single byte is stored.
	if st, err := f.Stat(); err == nil && st.Size() != d.Size {
		return addedFile{}, nil, fmt.Errorf("blob %s: file has %d bytes, descriptor says %d (corrupt blob)", d.Digest, st.Size(), d.Size)
	}
	var r io.Reader = f
	var kept bytes.Buffer
	if keep {
		r = io.TeeReader(f, &kept)
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
