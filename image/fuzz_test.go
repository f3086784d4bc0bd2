package image

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// Every input these parse comes from someone else: a file handed to push,
// a peer's block, a URL path. The fuzz targets check that nothing panics
// or hangs, and that what is accepted is consistent.

func FuzzParseCID(f *testing.F) {
	for _, s := range []string{"bafybeidhvbfm53bf43kukp5n2kdypbv4ncao2mnmagefu5suethazadv5u", "ipfs://bafkreie7754qk7fl56ebauawdgfuqqa3kdd7sotvuhsm6wbz3qin6ssw3a", "/ipfs/QmPZ9gcCEpqKTo6aq61g2nXGUhM4iCL3ewB6LDXZCtioEB", "", "/ipfs/", "ipfs://x/y", "imgp2p-test/hello:v1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCID(s)
		if err != nil {
			return
		}
		again, err := ParseCID(c.String())
		if err != nil || again != c {
			t.Fatalf("%q parsed as %s, which parses back as %v (%v)", s, c, again, err)
		}
	})
}

// archiveSeeds are a docker-archive and an oci-archive of a small image.
func archiveSeeds(f *testing.F) [][]byte {
	img, err := random.Image(512, 1)
	if err != nil {
		f.Fatal(err)
	}
	var docker bytes.Buffer
	tag, _ := name.NewTag("example.com/fuzz:v1")
	if err := tarball.Write(tag, img, &docker); err != nil {
		f.Fatal(err)
	}
	dag := mdtest.Mock()
	imp, err := ImportArchive(context.Background(), dag, bytes.NewReader(docker.Bytes()), ImportOptions{})
	if err != nil {
		f.Fatal(err)
	}
	root, _ := Open(context.Background(), dag, imp.Root)
	exp, _ := root.Plan(context.Background(), ExportOptions{})
	var oci bytes.Buffer
	if err := exp.WriteOCIArchive(context.Background(), &oci); err != nil {
		f.Fatal(err)
	}
	return [][]byte{docker.Bytes(), oci.Bytes()}
}

func FuzzImportArchive(f *testing.F) {
	for _, s := range archiveSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		dag := mdtest.Mock()
		imp, err := ImportArchive(ctx, dag, bytes.NewReader(data), ImportOptions{})
		if err != nil {
			return
		}
		// Whatever was accepted must read back, blob by verified blob.
		root, err := Open(ctx, dag, imp.Root)
		if err != nil {
			t.Fatalf("accepted archive gave a root that does not open: %v", err)
		}
		exp, err := root.Plan(ctx, ExportOptions{})
		if err != nil {
			t.Fatalf("accepted archive gave a root that does not plan: %v", err)
		}
		if err := exp.WriteOCIArchive(ctx, io.Discard); err != nil {
			t.Fatalf("accepted archive does not export: %v", err)
		}
	})
}

// memBlobs is a blob source held in memory, for fuzzing indexes and
// manifests without touching the disk.
type memBlobs map[string][]byte

func (m memBlobs) add(ctx context.Context, d v1.Descriptor, keep bool) (addedFile, []byte, error) {
	b, ok := m[d.Digest.Hex]
	if !ok {
		return addedFile{}, nil, fmt.Errorf("blob %s is missing", d.Digest)
	}
	f, err := addBytes(ctx, mdtest.Mock(), b)
	if err != nil {
		return addedFile{}, nil, err
	}
	if err := f.verify(d); err != nil {
		return addedFile{}, nil, err
	}
	return f, b, nil
}

func FuzzLayoutMetadata(f *testing.F) {
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	configDigest := fmt.Sprintf("%x", sha256.Sum256(config))
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[]}`, configDigest, len(config)))
	manifestDigest := fmt.Sprintf("%x", sha256.Sum256(manifest))
	index := []byte(fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d}]}`, manifestDigest, len(manifest)))
	f.Add(index, manifest, "linux/amd64")
	f.Add(index, manifest, "")
	f.Add([]byte(`{"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:../../etc/passwd","size":1}]}`), manifest, "")
	f.Fuzz(func(t *testing.T, index, manifest []byte, platform string) {
		blobs := memBlobs{configDigest: config, fmt.Sprintf("%x", sha256.Sum256(manifest)): manifest}
		var opts ImportOptions
		if platform != "" {
			p, err := ParsePlatform(platform)
			if err != nil {
				return
			}
			opts.Platform = p
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = build(ctx, mdtest.Mock(), blobs, index, opts)
	})
}

func FuzzOpenNerdctlRoot(f *testing.F) {
	f.Add([]byte(nerdctlVector))
	f.Add([]byte(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + fmt.Sprintf("%x", sha256.Sum256(nil)) + `","size":0,"urls":["ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"]}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		dag := mdtest.Mock()
		f, err := addBytes(ctx, dag, data)
		if err != nil {
			return
		}
		_, _ = Open(ctx, dag, f.node.Cid())
	})
}
