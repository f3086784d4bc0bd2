package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/ipfs/boxo/ipld/merkledag"
	uio "github.com/ipfs/boxo/ipld/unixfs/io"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
)

// ErrNotImage reports a root that exists but is not an image layout.
var ErrNotImage = errors.New("not an imgp2p image")

// Root is an image root opened for reading. Its DAG service decides where
// blocks come from: the local repo alone, or peers too.
type Root struct {
	CID   cid.Cid
	dag   ipld.DAGService
	blobs blobIndex
	// layoutFiles are the root's own files other than blobs (oci-layout,
	// index.json): a pull fetches them too, so the root it leaves in the
	// repo is whole and verifiable.
	layoutFiles []cid.Cid
	rawIndex    []byte
	index       *v1.IndexManifest
	// budget, when set, is charged with every metadata blob read.
	budget *metaBudget
}

// Open reads an image root: imgp2p's layout directory, or a nerdctl
// (stargz-snapshotter) root, a JSON descriptor whose ipfs:// urls name each
// blob.
func Open(ctx context.Context, dag ipld.DAGService, c cid.Cid) (*Root, error) {
	nd, err := dag.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	notImage := func(why string) error { return fmt.Errorf("%s is %w: %s", c, ErrNotImage, why) }
	dir, err := uio.NewDirectoryFromNode(dag, nd)
	if err != nil {
		return openNerdctl(ctx, dag, c, nd, notImage)
	}
	// blobs/sha256 is fetched while index.json is (each is a bitswap round
	// trip of at least 20 ms from a peer), by following the root's plain
	// links; a name not found that way (a sharded root, or no such
	// directory) is left to the lookup below, after index.json. Never
	// both at once: two requests for one block a moment apart can leave
	// a want the serving peer drops and the asker never repeats.
	aside, stopAside := context.WithCancel(ctx)
	defer stopAside()
	blobsNode := make(chan ipld.Node, 1)
	go func() { blobsNode <- followPath(aside, dag, nd, blobsDir, algorithmDir) }()
	idxNode, err := dir.Find(ctx, indexFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil, notImage("it has no index.json")
	}
	if err != nil {
		return nil, err
	}
	rawIndex, err := readNode(ctx, dag, idxNode, maxMetadataSize)
	if err != nil {
		return nil, fmt.Errorf("%s: index.json: %w", c, err)
	}
	index, err := v1.ParseIndexManifest(bytes.NewReader(rawIndex))
	if err != nil {
		return nil, notImage("index.json does not parse: " + err.Error())
	}
	var blobs uio.Directory
	if found := <-blobsNode; found != nil {
		blobs, err = uio.NewDirectoryFromNode(dag, found)
	} else {
		blobs, err = subdir(ctx, dag, dir, blobsDir, algorithmDir)
	}
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, uio.ErrNotADir) {
		return nil, notImage("it has no blobs/sha256 directory")
	}
	if err != nil {
		// Typically a block not held locally: the caller may go online.
		return nil, fmt.Errorf("%s: blobs/sha256: %w", c, err)
	}
	var files []cid.Cid
	for _, l := range nd.Links() {
		if l.Name != blobsDir {
			files = append(files, l.Cid)
		}
	}
	idx, err := newDirBlobs(ctx, blobs)
	if err != nil {
		return nil, fmt.Errorf("%s: blobs/sha256: %w", c, err)
	}
	return &Root{CID: c, dag: dag, blobs: idx, layoutFiles: files, rawIndex: rawIndex, index: index}, nil
}

// followPath returns the node at names under nd, following each node's
// own links by name, or nil when a name is not among them or a node
// cannot be had.
func followPath(ctx context.Context, dag ipld.NodeGetter, nd ipld.Node, names ...string) ipld.Node {
	for _, name := range names {
		var next cid.Cid
		for _, l := range nd.Links() {
			if l.Name == name {
				next = l.Cid
				break
			}
		}
		if !next.Defined() {
			return nil
		}
		var err error
		if nd, err = dag.Get(ctx, next); err != nil {
			return nil
		}
	}
	return nd
}

// ReadingFrom returns the same root reading blob contents from dag, for
// example one that waits for a fetch in progress.
func (r *Root) ReadingFrom(dag ipld.DAGService) *Root {
	c := *r
	c.dag = dag
	return &c
}

// Budgeted returns the same root charging every manifest, index and
// config it reads from now on to a metadata budget of its own (see
// maxMetadataTotal): what one gateway request may read, which a root's
// author can otherwise make cost far more than the blocks it holds.
func (r *Root) Budgeted() *Root {
	c := *r
	c.budget = newMetaBudget()
	return &c
}

// LayoutFiles lists the CIDs of the root's files other than its blobs.
func (r *Root) LayoutFiles() []cid.Cid { return r.layoutFiles }

// blobIndex finds a root's blob files by digest.
type blobIndex interface {
	// find returns the file's CID, or an error wrapping os.ErrNotExist.
	find(ctx context.Context, hex string) (cid.Cid, error)
	// files lists every blob file's CID.
	files(ctx context.Context) ([]cid.Cid, error)
}

// dirBlobs is a native root's blobs/sha256 directory.
type dirBlobs struct {
	dir uio.Directory
	// links maps names to CIDs when the directory is one node (not
	// sharded), as it is but for images of thousands of blobs: finding a
	// blob's CID then fetches nothing. Through a Find, planning a pull
	// fetched every blob's root node one after another, a round trip to
	// a peer each (0.16 s of a 4-layer pull's start).
	links map[string]cid.Cid
}

func newDirBlobs(ctx context.Context, dir uio.Directory) (dirBlobs, error) {
	d := dirBlobs{dir: dir}
	if dyn, ok := dir.(*uio.DynamicDirectory); !ok || !isBasic(dyn.Directory) {
		return d, nil
	}
	links, err := dir.Links(ctx)
	if err != nil {
		return d, err
	}
	d.links = make(map[string]cid.Cid, len(links))
	for _, l := range links {
		d.links[l.Name] = l.Cid
	}
	return d, nil
}

func isBasic(d uio.Directory) bool {
	_, ok := d.(*uio.BasicDirectory)
	return ok
}

func (d dirBlobs) find(ctx context.Context, hex string) (cid.Cid, error) {
	if d.links != nil {
		c, ok := d.links[hex]
		if !ok {
			return cid.Undef, fmt.Errorf("blob sha256:%s: %w", hex, os.ErrNotExist)
		}
		return c, nil
	}
	nd, err := d.dir.Find(ctx, hex)
	if err != nil {
		return cid.Undef, err
	}
	return nd.Cid(), nil
}

func (d dirBlobs) files(ctx context.Context) ([]cid.Cid, error) {
	links, err := d.dir.Links(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]cid.Cid, len(links))
	for i, l := range links {
		out[i] = l.Cid
	}
	return out, nil
}

func subdir(ctx context.Context, dag ipld.DAGService, dir uio.Directory, names ...string) (uio.Directory, error) {
	for _, name := range names {
		nd, err := dir.Find(ctx, name)
		if err != nil {
			return nil, err
		}
		if dir, err = uio.NewDirectoryFromNode(dag, nd); err != nil {
			return nil, err
		}
	}
	return dir, nil
}

func readNode(ctx context.Context, dag ipld.DAGService, nd ipld.Node, limit int64) ([]byte, error) {
	r, err := uio.NewDagReader(ctx, nd, dag)
	if err != nil {
		return nil, err
	}
	if int64(r.Size()) > limit {
		return nil, fmt.Errorf("%d bytes is more than the limit of %d", r.Size(), limit)
	}
	return io.ReadAll(r)
}

// blobNode returns the root node of the file holding blob h.
func (r *Root) blobNode(ctx context.Context, h v1.Hash) (ipld.Node, error) {
	c, err := r.BlobCID(ctx, h)
	if err != nil {
		return nil, err
	}
	return r.dag.Get(ctx, c)
}

// BlobCID returns the CID of the file holding blob h.
func (r *Root) BlobCID(ctx context.Context, h v1.Hash) (cid.Cid, error) {
	if err := checkDigest(h); err != nil {
		return cid.Undef, err
	}
	c, err := r.blobs.find(ctx, h.Hex)
	if errors.Is(err, os.ErrNotExist) {
		return cid.Undef, blobNotInImage{h, r.CID}
	}
	return c, err
}

// ErrTooLargeForMetadata matches the error for a blob asked for as a
// manifest, index or config that is too large to be one.
var ErrTooLargeForMetadata = errors.New("is too large for metadata")

// ErrBlobNotInImage matches the error for a digest an image does not list,
// as opposed to one it lists but whose blocks could not be had.
var ErrBlobNotInImage = errors.New("blob is not in the image")

type blobNotInImage struct {
	digest v1.Hash
	root   cid.Cid
}

func (e blobNotInImage) Error() string {
	return fmt.Sprintf("blob %s is not in image %s", e.digest, e.root)
}

func (e blobNotInImage) Is(target error) bool { return target == ErrBlobNotInImage }

// OpenBlob streams the blob d describes, failing at the end if its bytes
// do not match d's size and digest, so nothing unverified passes silently.
// A file already found to match d is not hashed again (see verifiedBlobs).
func (r *Root) OpenBlob(ctx context.Context, d v1.Descriptor) (io.ReadCloser, error) {
	return r.openBlob(ctx, d, false)
}

// openBlob is OpenBlob; recheck hashes the blob even if it was found to
// match before.
func (r *Root) openBlob(ctx context.Context, d v1.Descriptor, recheck bool) (io.ReadCloser, error) {
	nd, err := r.blobNode(ctx, d.Digest)
	if err != nil {
		return nil, err
	}
	dr, err := uio.NewDagReader(ctx, nd, merkledag.NewSession(ctx, r.dag))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if int64(dr.Size()) != d.Size {
		dr.Close()
		return nil, fmt.Errorf("blob %s: stored file has %d bytes, descriptor says %d", d.Digest, dr.Size(), d.Size)
	}
	v := &verifyingReader{r: dr, c: dr, d: d}
	if recheck || !isVerified(ctx, nd.Cid(), d) {
		v.h = sha256.New()
		v.matched = func() { markVerified(ctx, nd.Cid(), d) }
	}
	return v, nil
}

// readMeta returns the verified bytes of a small metadata blob.
func (r *Root) readMeta(ctx context.Context, d v1.Descriptor) ([]byte, error) {
	if err := checkDescriptor(d); err != nil {
		return nil, err
	}
	if d.Size > maxMetadataSize {
		return nil, fmt.Errorf("blob %s: %d bytes %w (limit %d)", d.Digest, d.Size, ErrTooLargeForMetadata, maxMetadataSize)
	}
	if r.budget != nil {
		if err := r.budget.spend(d); err != nil {
			return nil, err
		}
	}
	rc, err := r.OpenBlob(ctx, d)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

type verifyingReader struct {
	r io.Reader
	c io.Closer
	d v1.Descriptor
	// h hashes what is read, unless the file is known to match d.
	h       hash.Hash
	matched func()
	n       int64
	// checked is set once the digest has been compared.
	checked bool
}

// Read checks the digest as soon as the promised size is reached, before
// handing over those last bytes: a reader never gets the whole of a blob
// that is not what its descriptor says.
func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if err != nil && err != io.EOF {
		return n, fmt.Errorf("blob %s: %w", v.d.Digest, err)
	}
	if v.h != nil {
		v.h.Write(p[:n])
	}
	v.n += int64(n)
	if v.n > v.d.Size {
		return 0, fmt.Errorf("blob %s: more than the %d bytes its descriptor promises", v.d.Digest, v.d.Size)
	}
	if v.n == v.d.Size && !v.checked && v.h != nil {
		v.checked = true
		if got := fmt.Sprintf("%x", v.h.Sum(nil)); got != v.d.Digest.Hex {
			return 0, fmt.Errorf("blob %s: content digest is sha256:%s", v.d.Digest, got)
		}
		if v.matched != nil {
			v.matched()
		}
	}
	if err == io.EOF && v.n != v.d.Size {
		return n, fmt.Errorf("blob %s: %d bytes, descriptor says %d", v.d.Digest, v.n, v.d.Size)
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.c.Close() }

// BlobRoots lists the CIDs worth announcing for an image: its root and
// the root of every blob file. Peers that find a blob's root ask the same
// peer for its chunks, so chunks need no announcement of their own.
func BlobRoots(ctx context.Context, dag ipld.DAGService, c cid.Cid) ([]cid.Cid, error) {
	r, err := Open(ctx, dag, c)
	if err != nil {
		return nil, err
	}
	files, err := r.blobs.files(ctx)
	if err != nil {
		return nil, err
	}
	return append([]cid.Cid{c}, files...), nil
}

// IndexJSON returns the root's index.json as stored.
func (r *Root) IndexJSON() []byte { return r.rawIndex }

// Index returns the root's parsed index.json.
func (r *Root) Index() *v1.IndexManifest { return r.index }

// ReadManifest returns the verified bytes of blob h if it is small enough
// to be a manifest or index.
func (r *Root) ReadManifest(ctx context.Context, h v1.Hash) ([]byte, error) {
	size, err := r.BlobSize(ctx, h)
	if err != nil {
		return nil, err
	}
	return r.readMeta(ctx, v1.Descriptor{Digest: h, Size: size})
}
