package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The nerdctl / stargz-snapshotter ipfs:// format (REFERENCE.md §2), written
// by the test itself with a real Kubo and image-spec's own structs, never by
// imgp2p: what imgp2p reads must be what nerdctl writes, not what imgp2p's
// writer happens to produce.

// nerdctlImage is an image converted to nerdctl's format and added to Kubo.
type nerdctlImage struct {
	Root string             // the root CID: json.Marshal(Top) as a file
	Top  ocispec.Descriptor // the top index or manifest, with its url
	// Files holds every blob the root reaches, by digest: manifests and
	// indexes as converted, configs and layers as the source layout has them.
	Files map[digest.Digest]string
	// CIDs is the CID each blob's url names.
	CIDs map[digest.Digest]string
	// Metadata lists the converted manifests and indexes: the blobs a
	// registry serves under /manifests/.
	Metadata map[digest.Digest]string // digest → media type
}

// nerdctlConverter converts one layout. urls overrides the url of any
// descriptor whose (converted) digest it names, for roots that lie.
type nerdctlConverter struct {
	t    *testing.T
	k    *kubo
	src  string
	dir  string // converted manifests and indexes
	urls map[digest.Digest]string
	img  nerdctlImage
}

// toNerdctl converts the image index.json of the layout at src points at
// (its first entry), as nerdctl's converter does: every blob added to k with
// `ipfs add --cid-version=1` (k's import settings must be Kubo's defaults,
// see newNerdctlKubo), Docker media types made OCI, "urls":["ipfs://<cid>"]
// on every descriptor, manifests and indexes re-marshalled with
// json.Marshal, and finally the top descriptor added: its CID is the root.
func toNerdctl(t *testing.T, k *kubo, src string, urls map[digest.Digest]string) nerdctlImage {
	t.Helper()
	c := &nerdctlConverter{t: t, k: k, src: src, dir: t.TempDir(), urls: urls, img: nerdctlImage{
		Files:    map[digest.Digest]string{},
		CIDs:     map[digest.Digest]string{},
		Metadata: map[digest.Digest]string{},
	}}
	var index ocispec.Index
	c.unmarshal(filepath.Join(src, "index.json"), &index)
	if len(index.Manifests) == 0 {
		t.Fatalf("layout %s: index.json lists nothing", src)
	}
	// The root is the containerd image's target: media type, digest, size
	// and the url — not the layout's ref.name annotation, which names the
	// image in index.json rather than describing the blob.
	d := c.convert(index.Manifests[0])
	c.img.Top = ocispec.Descriptor{MediaType: d.MediaType, Digest: d.Digest, Size: d.Size, URLs: d.URLs}
	raw, err := json.Marshal(c.img.Top)
	if err != nil {
		t.Fatal(err)
	}
	c.img.Root = kuboAddBytes(t, k, c.dir, raw)
	if !strings.HasPrefix(c.img.Root, "bafkrei") {
		t.Fatalf("root %s of a %d-byte descriptor is not a single raw block", c.img.Root, len(raw))
	}
	return c.img
}

// convert returns d converted, with its blob (and all it names) in Kubo.
func (c *nerdctlConverter) convert(d ocispec.Descriptor) ocispec.Descriptor {
	c.t.Helper()
	out := d
	out.MediaType = ociMediaType(d.MediaType)
	path := c.srcBlob(d.Digest)
	switch out.MediaType {
	case ocispec.MediaTypeImageIndex:
		var idx ocispec.Index
		c.unmarshal(path, &idx)
		idx.MediaType = ocispec.MediaTypeImageIndex
		for i := range idx.Manifests {
			idx.Manifests[i] = c.convert(idx.Manifests[i])
		}
		path = c.writeJSON(idx)
	case ocispec.MediaTypeImageManifest:
		var m ocispec.Manifest
		c.unmarshal(path, &m)
		m.MediaType = ocispec.MediaTypeImageManifest
		m.Config = c.convert(m.Config)
		for i := range m.Layers {
			m.Layers[i] = c.convert(m.Layers[i])
		}
		path = c.writeJSON(m)
	}
	raw := readFile(c.t, path)
	out.Digest, out.Size = digest.FromBytes(raw), int64(len(raw))
	if out.MediaType == ocispec.MediaTypeImageIndex || out.MediaType == ocispec.MediaTypeImageManifest {
		c.img.Metadata[out.Digest] = out.MediaType
	}
	cid, lie := c.urls[out.Digest]
	if !lie {
		cid = kuboAddFile(c.t, c.k, path)
	}
	out.URLs = []string{"ipfs://" + cid}
	c.img.Files[out.Digest] = path
	c.img.CIDs[out.Digest] = cid
	return out
}

// ociMediaType is containerd's ConvertDockerMediaTypeToOCI.
func ociMediaType(mt string) string {
	switch mt {
	case "application/vnd.docker.distribution.manifest.list.v2+json":
		return ocispec.MediaTypeImageIndex
	case "application/vnd.docker.distribution.manifest.v2+json":
		return ocispec.MediaTypeImageManifest
	case "application/vnd.docker.container.image.v1+json":
		return ocispec.MediaTypeImageConfig
	case "application/vnd.docker.image.rootfs.diff.tar.gzip":
		return ocispec.MediaTypeImageLayerGzip
	case "application/vnd.docker.image.rootfs.diff.tar":
		return ocispec.MediaTypeImageLayer
	case "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":
		return "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
	case "application/vnd.docker.image.rootfs.foreign.diff.tar":
		return "application/vnd.oci.image.layer.nondistributable.v1.tar"
	}
	return mt
}

func (c *nerdctlConverter) srcBlob(d digest.Digest) string {
	c.t.Helper()
	if err := d.Validate(); err != nil || d.Algorithm() != digest.SHA256 {
		c.t.Fatalf("layout %s: bad digest %q: %v", c.src, d, err)
	}
	return filepath.Join(c.src, "blobs", "sha256", d.Encoded())
}

func (c *nerdctlConverter) unmarshal(path string, v any) {
	c.t.Helper()
	if err := json.Unmarshal(readFile(c.t, path), v); err != nil {
		c.t.Fatalf("%s: %v", path, err)
	}
}

// writeJSON stores json.Marshal(v) — compact, no trailing newline, as
// containerd's converter writes — under its digest in c.dir.
func (c *nerdctlConverter) writeJSON(v any) string {
	c.t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	path := filepath.Join(c.dir, digest.FromBytes(raw).Encoded())
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		c.t.Fatal(err)
	}
	return path
}

// cidOutput is `ipfs add -Q`'s whole stdout: one CIDv1.
var cidOutput = regexp.MustCompile(`^(baf[a-z2-7]{50,})\n$`)

// kuboAddFile is `ipfs add --cid-version=1 -Q path`, what nerdctl's client
// asks Kubo's API for each blob, and returns the CID.
func kuboAddFile(t *testing.T, k *kubo, path string) string {
	t.Helper()
	res := k.ok("add", "--cid-version=1", "-Q", "--progress=false", path)
	m := cidOutput.FindSubmatch(res.stdout)
	if m == nil {
		t.Fatalf("ipfs add -Q printed no CID: %v", res)
	}
	return string(m[1])
}

// kuboAddBytes writes b to a file in dir and adds it.
func kuboAddBytes(t *testing.T, k *kubo, dir string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, digest.FromBytes(b).Encoded())
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return kuboAddFile(t, k, path)
}

// newNerdctlKubo is a Kubo repo with Kubo's default import settings, which
// nerdctl relies on: `ipfs init --profile test` only, without the
// unixfs-v1-2025 import profile newKubo applies. Kubo's defaults are not
// written into the config (every Import key is null), so the test does not
// trust them: checkNerdctlChunking compares them with explicit flags.
func newNerdctlKubo(t *testing.T) *kubo {
	t.Helper()
	needKubo(t)
	dir := t.TempDir()
	k := &kubo{t: t, path: filepath.Join(dir, "ipfs"), home: dir}
	if v := strings.TrimSpace(string(k.ok("version", "--number").stdout)); v != kuboVersion {
		t.Fatalf("IMGP2P_E2E_KUBO is Kubo %s, want %s (e2e/kubo builds it)", v, kuboVersion)
	}
	k.ok("init", "--empty-repo", "--profile", "test")
	for _, key := range []string{"Import.CidVersion", "Import.UnixFSChunker", "Import.UnixFSRawLeaves",
		"Import.UnixFSFileMaxLinks", "Import.UnixFSDAGLayout"} {
		if got := strings.TrimSpace(string(k.ok("config", key).stdout)); got != "null" {
			t.Fatalf("after ipfs init --profile test: %s = %s, want null (Kubo's default)", key, got)
		}
	}
	return k
}

// checkNerdctlChunking: the CID Kubo gave the blob at path with its
// defaults (what nerdctl gets) is the one the format spells out — 256 KiB
// chunks, at most 174 links per node, raw leaves, CIDv1.
func checkNerdctlChunking(t *testing.T, k *kubo, path, cid string) {
	t.Helper()
	res := k.ok("add", "--only-hash", "-Q", "--progress=false", "--cid-version=1",
		"--chunker=size-262144", "--max-file-links=174", "--raw-leaves", path)
	if got := strings.TrimSpace(string(res.stdout)); got != cid {
		t.Errorf("%s: Kubo's defaults gave %s, 256 KiB chunks and 174 links give %s: the repo's import settings are not nerdctl's",
			filepath.Base(path), cid, got)
	}
}

// sameBytes fails the test unless the files at got and want hold the same
// bytes.
func sameBytes(t *testing.T, what, got, want string) {
	t.Helper()
	if g, w := readFile(t, got), readFile(t, want); !bytes.Equal(g, w) {
		t.Errorf("%s: %d bytes (%s) differ from the %d expected (%s)", what, len(g), digest.FromBytes(g), len(w), digest.FromBytes(w))
	}
}
