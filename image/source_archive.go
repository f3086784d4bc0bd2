package image

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	ipld "github.com/ipfs/go-ipld-format"
)

// archive is an image tar read in one pass: every regular entry is stored
// as it streams by (a pipe cannot be rewound, and docker-archives put
// manifest.json last), then the layout is assembled from what was stored.
// Entries no image references are left unpinned for garbage collection.
type archive struct {
	dag      ipld.DAGService
	byPath   map[string]addedFile
	byDigest map[v1.Hash]addedFile
}

// ImportArchive imports a docker-archive or oci-archive tar (optionally
// gzip-compressed) read from r.
func ImportArchive(ctx context.Context, dag ipld.DAGService, r io.Reader, opts ImportOptions) (Imported, error) {
	a, err := readArchive(ctx, dag, r)
	if err != nil {
		return Imported{}, err
	}
	var index []byte
	switch {
	case a.has(indexFile):
		index, err = a.readPath(ctx, indexFile)
	case a.has(dockerManifestFile):
		index, err = a.dockerIndex(ctx)
	default:
		return Imported{}, a.notImage()
	}
	if err != nil {
		return Imported{}, err
	}
	return build(ctx, dag, a, index, opts)
}

// notImage explains an archive with no index.json or manifest.json at its
// top, naming one found deeper: a layout tarred with its directory
// (tar -cf app.tar app-layout) is a common slip.
func (a *archive) notImage() error {
	const msg = "not an image archive: it has neither index.json (oci-archive) nor manifest.json (docker-archive)"
	var nested []string
	for name := range a.byPath {
		if base := path.Base(name); (base == indexFile || base == dockerManifestFile) && name != base {
			nested = append(nested, name)
		}
	}
	if len(nested) == 0 {
		return errors.New(msg)
	}
	sort.Strings(nested)
	dir := path.Dir(nested[0])
	return fmt.Errorf("%s at its top, only %s: tar the layout's contents, not its directory (tar -C %s -cf app.tar .), or push the directory itself", msg, nested[0], dir)
}

func readArchive(ctx context.Context, dag ipld.DAGService, r io.Reader) (*archive, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("read archive: %w", err)
		}
		defer gz.Close()
		r = gz
	} else {
		r = br
	}
	a := &archive{dag: dag, byPath: map[string]addedFile{}, byDigest: map[v1.Hash]addedFile{}}
	links := map[string]string{}
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			if n == 0 {
				return nil, errors.New("not an image archive: empty tar")
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not an image archive: %w", err)
		}
		name, err := entryName(hdr.Name)
		if err != nil {
			return nil, err
		}
		if isSparse(hdr) {
			// Holes expand to zeros with nothing in the stream: a few
			// bytes of archive could claim terabytes.
			return nil, fmt.Errorf("archive entry %s is a sparse file, which image archives never contain", name)
		}
		switch hdr.Typeflag {
		case tar.TypeReg:
			f, err := addFile(ctx, dag, tr)
			if err != nil {
				return nil, fmt.Errorf("archive entry %s: %w", name, err)
			}
			a.byPath[name] = f
			a.byDigest[f.digest] = f
		case tar.TypeSymlink:
			// docker save links a layer that repeats to its first copy.
			links[name] = path.Join(path.Dir(name), hdr.Linkname)
		case tar.TypeLink:
			links[name] = hdr.Linkname
		}
	}
	for name, target := range links {
		for hops := 0; hops < 8; hops++ {
			if next, ok := links[target]; ok {
				target = next
			}
		}
		if f, ok := a.byPath[path.Clean(target)]; ok {
			a.byPath[name] = f
		}
	}
	return a, nil
}

func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// entryName cleans an archive path and refuses one that leaves the archive.
func entryName(name string) (string, error) {
	clean := path.Clean(strings.TrimPrefix(name, "./"))
	if path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("archive entry %q points outside the archive", name)
	}
	return clean, nil
}

func (a *archive) has(name string) bool {
	_, ok := a.byPath[name]
	return ok
}

func (a *archive) readPath(ctx context.Context, name string) ([]byte, error) {
	f, ok := a.byPath[name]
	if !ok {
		return nil, fmt.Errorf("archive has no %s", name)
	}
	if f.size > maxMetadataSize {
		return nil, fmt.Errorf("archive entry %s: %d bytes is too large (limit %d)", name, f.size, maxMetadataSize)
	}
	return a.read(ctx, f)
}

func (a *archive) read(ctx context.Context, f addedFile) ([]byte, error) {
	r, err := uio.NewDagReader(ctx, f.node, a.dag)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

func (a *archive) add(ctx context.Context, d v1.Descriptor, keep bool) (addedFile, []byte, error) {
	f, ok := a.byDigest[d.Digest]
	if !ok {
		return addedFile{}, nil, missingBlob{d.Digest, "the archive"}
	}
	if err := f.verify(d); err != nil {
		return addedFile{}, nil, err
	}
	if !keep {
		return f, nil, nil
	}
	raw, err := a.read(ctx, f)
	return f, raw, err
}
