package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// Images whose layers no tool may touch on the way (issue 5, "Layers that
// must pass through untouched"): an ocicrypt-encrypted layer and an eStargz
// layer. Both are built with go-containerregistry; the eStargz blob is a
// real one, made by the stargz-snapshotter's own builder (e2e/mkestargz).

// passFixture is one such image in an OCI layout.
type passFixture struct {
	dir string
	// layer is the special layer's descriptor as the manifest holds it:
	// media type and annotations must come back exactly so.
	layer v1.Descriptor
	// esgz describes an eStargz layer (nil for the encrypted image).
	esgz *estargzInfo
}

const encryptedLayerType = types.MediaType("application/vnd.oci.image.layer.v1.tar+gzip+encrypted")

// encryptedFixture is the hello image plus a layer as ocicrypt leaves it:
// media type +encrypted, the wrapped keys and public options in the
// descriptor's annotations (base64, as ocicrypt writes them). The bytes are
// 1.5 MiB of ChaCha8 output standing in for ciphertext, so the layer spans
// two of imgp2p's 1 MiB chunks; nobody can decrypt them, and nobody on the
// way should try.
func encryptedFixture(t *testing.T) passFixture {
	t.Helper()
	hello, err := testimage.HelloImage(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	jwe := `{"protected":"eyJhbGciOiJFQ0RILUVTK0EyNTZLVyIsImVuYyI6IkEyNTZHQ00ifQ","encrypted_key":"imgp2p-e2e-not-a-key","iv":"AAECAwQFBgcICQoL","ciphertext":"c2VjcmV0","tag":"dGFn"}`
	pubopts := `{"cipher":"AES_256_CTR_HMAC_SHA256","hmac":"aW1ncDJwLWUyZQ==","cipheroptions":{}}`
	anns := map[string]string{
		"org.opencontainers.image.enc.keys.jwe": base64.StdEncoding.EncodeToString([]byte(jwe)),
		"org.opencontainers.image.enc.pubopts":  base64.StdEncoding.EncodeToString([]byte(pubopts)),
	}
	layer := static.NewLayer(chacha(3<<19, 21), encryptedLayerType)
	img, err := mutate.Append(hello, mutate.Addendum{Layer: layer, MediaType: encryptedLayerType, Annotations: anns,
		History: v1.History{Created: v1.Time{Time: testimage.Epoch}, CreatedBy: "imgp2p e2e: encrypted layer"}})
	if err != nil {
		t.Fatal(err)
	}
	return writeFixture(t, "encrypted", img, nil)
}

// estargzFixture is an image whose one layer is a real eStargz blob, with
// the annotations a lazy puller reads: the TOC digest and the uncompressed
// size. 2.5 MiB of incompressible file content makes the blob span three of
// imgp2p's chunks.
func estargzFixture(t *testing.T) passFixture {
	t.Helper()
	info, blob := buildEstargz(t, map[string][]byte{
		"etc/motd":        []byte("hello from an eStargz layer\n"),
		"data/random.bin": chacha(5<<19, 22),
	})
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return os.Open(blob) // as built: ggcr must not recompress it
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		t.Fatal(err)
	}
	// ggcr decompresses the multi-member gzip into the same tar the builder
	// hashed: the fixture's config is right.
	if diffID, err := layer.DiffID(); err != nil || diffID.String() != info.DiffID {
		t.Fatalf("eStargz layer: ggcr's diffID %v (%v), the builder's %s", diffID, err, info.DiffID)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
		Annotations: map[string]string{
			info.TOCDigestAnnotation:        info.TOCDigest,
			info.UncompressedSizeAnnotation: strconv.FormatInt(info.UncompressedSize, 10),
		},
		History: v1.History{Created: v1.Time{Time: testimage.Epoch}, CreatedBy: "imgp2p e2e: eStargz layer"}})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.Created = v1.Time{Time: testimage.Epoch}
	cf.OS, cf.Architecture = "linux", runtime.GOARCH
	cf.Config.Cmd = []string{"/bin/sh"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	return writeFixture(t, "estargz", img, &info)
}

// writeFixture writes img as an OCI layout named imgp2p-test/<name>:v1 and
// returns it with its last layer's descriptor, read back from the manifest.
func writeFixture(t *testing.T, name string, img v1.Image, esgz *estargzInfo) passFixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		testimage.RefNameAnnotation: "imgp2p-test/" + name + ":v1",
	})); err != nil {
		t.Fatal(err)
	}
	m := manifestOf(t, dir, digests(t, dir).Manifest)
	f := passFixture{dir: dir, layer: m.Layers[len(m.Layers)-1], esgz: esgz}
	if len(f.layer.Annotations) == 0 {
		t.Fatalf("fixture %s: the layer descriptor lost its annotations: %+v", name, f.layer)
	}
	return f
}

// manifestOf parses the manifest blob h of the layout at dir.
func manifestOf(t *testing.T, dir string, h v1.Hash) *v1.Manifest {
	t.Helper()
	m, err := v1.ParseManifest(bytes.NewReader(readFile(t, testimage.BlobPath(dir, h))))
	if err != nil {
		t.Fatalf("manifest %s in %s: %v", h, dir, err)
	}
	return m
}

// chacha is n bytes of ChaCha8 output for seed: incompressible, and the same
// on every run.
func chacha(n int, seed uint64) []byte {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	b := make([]byte, n)
	rand.NewChaCha8(key).Read(b)
	return b
}

// estargzInfo is what e2e/mkestargz reports about the blob it built.
type estargzInfo struct {
	TOCDigest                  string `json:"tocDigest"`
	UncompressedSize           int64  `json:"uncompressedSize"`
	DiffID                     string `json:"diffID"`
	Size                       int64  `json:"size"`
	TOCOffset                  int64  `json:"tocOffset"`
	FooterSize                 int64  `json:"footerSize"`
	TOCDigestAnnotation        string `json:"tocDigestAnnotation"`
	UncompressedSizeAnnotation string `json:"uncompressedSizeAnnotation"`
}

// buildEstargz tars files (fixed owner and mtime) and turns the tar into an
// eStargz blob with e2e/mkestargz, a module of its own (the builder is no
// dependency of imgp2p), compiled for the test. It returns the blob's path.
func buildEstargz(t *testing.T, files map[string][]byte) (estargzInfo, string) {
	t.Helper()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "mkestargz")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = "mkestargz"
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")
	if msg, err := build.CombinedOutput(); err != nil {
		need(t, "the eStargz builder (e2e/mkestargz, needs github.com/containerd/stargz-snapshotter/estargz from the module proxy)",
			&buildError{err: err, out: msg})
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	dirs := map[string]bool{}
	for _, name := range names {
		if d := filepath.Dir(name); !dirs[d] {
			dirs[d] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: testimage.Epoch, Format: tar.FormatPAX}); err != nil {
				t.Fatal(err)
			}
		}
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: testimage.Epoch, Format: tar.FormatPAX}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(tmp, "layer.tar"), filepath.Join(tmp, "layer.esgz")
	if err := os.WriteFile(in, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	res := execute(exec.Command(bin, in, out), nil)
	if res.code != 0 {
		t.Fatalf("mkestargz: %v", res)
	}
	var info estargzInfo
	if err := json.Unmarshal(res.stdout, &info); err != nil {
		t.Fatalf("mkestargz output: %v: %s", err, res.stdout)
	}
	return info, out
}

type buildError struct {
	err error
	out []byte
}

func (e *buildError) Error() string { return e.err.Error() + ": " + string(e.out) }
