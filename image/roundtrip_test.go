package image

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// writeLayout makes a layout holding a multi-platform index and a plain
// image, with layers big enough to span several 1 MiB chunks.
func writeLayout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	amd, err := random.Image(3<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	arm, err := random.Image(1<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	amd, _ = mutate.ConfigFile(amd, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	arm, _ = mutate.ConfigFile(arm, &v1.ConfigFile{OS: "linux", Architecture: "arm64"})
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	if err := p.AppendIndex(idx, layout.WithAnnotations(map[string]string{AnnotationRefName: "example.com/multi:v1"})); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestLayoutRoundTripIsByteIdentical(t *testing.T) {
	ctx := context.Background()
	dir := writeLayout(t)
	dag := mdtest.Mock()
	imp, err := ImportPath(ctx, dag, dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	again, err := ImportPath(ctx, mdtest.Mock(), dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Root != again.Root {
		t.Fatalf("same layout gave %s and %s", imp.Root, again.Root)
	}
	if len(imp.Platforms) != 2 || imp.Names[0] != "example.com/multi:v1" {
		t.Fatalf("platforms %v names %v", imp.Platforms, imp.Names)
	}
	root, err := Open(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := root.Plan(ctx, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := exp.WriteOCIArchive(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	files := 0
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag != tar.TypeReg || hdr.Name == layoutFile {
			continue
		}
		got, _ := io.ReadAll(tr)
		want, err := os.ReadFile(filepath.Join(dir, hdr.Name))
		if err != nil {
			t.Fatalf("exported %s, which the source does not have", hdr.Name)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s differs from the source", hdr.Name)
		}
		files++
	}
	// index.json + 2 manifests + index + 2 configs + 3 layers
	if files != 9 {
		t.Fatalf("exported %d files, want 9", files)
	}
}

func TestPlatformFilterKeepsOnlyThatImage(t *testing.T) {
	ctx := context.Background()
	dir := writeLayout(t)
	dag := mdtest.Mock()
	p, _ := ParsePlatform("linux/arm64")
	imp, err := ImportPath(ctx, dag, dir, ImportOptions{Platform: p})
	if err != nil {
		t.Fatal(err)
	}
	if len(imp.Platforms) != 1 || imp.Platforms[0] != "linux/arm64" || imp.Names[0] != "example.com/multi:v1" {
		t.Fatalf("platforms %v names %v", imp.Platforms, imp.Names)
	}
	if imp.Size > 1<<20 {
		t.Fatalf("filtered image is %d bytes: the amd64 layers came along", imp.Size)
	}
	if _, err := ImportPath(ctx, dag, dir, ImportOptions{Platform: &v1.Platform{OS: "linux", Architecture: "s390x"}}); err == nil {
		t.Fatal("import for a platform the layout lacks succeeded")
	}
}

func TestDockerArchiveRoundTripKeepsImageID(t *testing.T) {
	ctx := context.Background()
	img, err := random.Image(2<<20, 2)
	if err != nil {
		t.Fatal(err)
	}
	tag := mustTag("example.com/app:v2")
	var src bytes.Buffer
	if err := tarball.Write(tag, img, &src); err != nil {
		t.Fatal(err)
	}
	dag := mdtest.Mock()
	imp, err := ImportArchive(ctx, dag, &src, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := Open(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := root.Plan(ctx, ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := exp.WriteDockerArchive(ctx, &out, nil); err != nil {
		t.Fatal(err)
	}
	back, err := tarball.Image(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(out.Bytes())), nil }, &tag)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.ConfigName()
	got, err := back.ConfigName()
	if err != nil || got != want {
		t.Fatalf("image ID %s after the round trip, want %s (%v)", got, want, err)
	}
}

func TestCorruptBlobIsRefusedByName(t *testing.T) {
	ctx := context.Background()
	dir := writeLayout(t)
	blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
	var victim string
	for _, b := range blobs {
		if st, _ := os.Stat(b); st.Size() > 1<<20 {
			victim = b
		}
	}
	f, _ := os.OpenFile(victim, os.O_RDWR, 0)
	f.WriteAt([]byte("corrupt"), 1000)
	f.Close()
	_, err := ImportPath(ctx, mdtest.Mock(), dir, ImportOptions{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte(filepath.Base(victim))) {
		t.Fatalf("import of a corrupt layout: %v; want an error naming %s", err, filepath.Base(victim))
	}
}

// A layout whose index.json lists nothing pullable (no entries, or entries
// without a known media type) was pushed and pinned, and every pull and
// verify then failed on it: it is refused at push, saying what it lists.
func TestImportRefusesALayoutWithNoImage(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ index, says string }{
		{`{"schemaVersion":2,"manifests":[]}`, "no entries"},
		{`{"schemaVersion":2}`, "no entries"},
		{`{"schemaVersion":2,"manifests":[{"digest":"sha256:` + strings.Repeat("a", 64) + `","size":3}]}`, "no media type"},
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
		os.WriteFile(filepath.Join(dir, "index.json"), []byte(c.index), 0o644)
		_, err := ImportPath(ctx, mdtest.Mock(), dir, ImportOptions{})
		if err == nil || !strings.Contains(err.Error(), "lists no image") || !strings.Contains(err.Error(), c.says) {
			t.Errorf("index %s: %v, want a refusal saying %q", c.index, err, c.says)
		}
	}
}

// A docker-archive whose config names no platform (docker save always
// names one, other tools may not) claimed the empty platform "/", which no
// pull matched: it now suits any platform.
func TestDockerArchiveWithoutPlatformPullsForAny(t *testing.T) {
	ctx := context.Background()
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{})
	if err != nil {
		t.Fatal(err)
	}
	var src bytes.Buffer
	if err := tarball.Write(mustTag("example.com/noplatform:v1"), img, &src); err != nil {
		t.Fatal(err)
	}
	dag := mdtest.Mock()
	imp, err := ImportArchive(ctx, dag, &src, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := Open(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Plan(ctx, ExportOptions{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}); err != nil {
		t.Fatalf("plan for linux/amd64: %v", err)
	}
}

// A manifest of "{}" was refused with `unsupported digest algorithm ""
// (only sha256)`, naming neither the manifest nor what was missing.
func TestImportNamesTheManifestMissingAConfig(t *testing.T) {
	dir := t.TempDir()
	raw := []byte("{}")
	h, size, _ := v1.SHA256(bytes.NewReader(raw))
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755)
	os.WriteFile(filepath.Join(dir, "blobs", "sha256", h.Hex), raw, 0o644)
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	index := fmt.Sprintf(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":%d}]}`, h, size)
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644)
	_, err := ImportPath(context.Background(), mdtest.Mock(), dir, ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), h.String()) || !strings.Contains(err.Error(), "config: no digest") {
		t.Fatalf("import of a manifest without a config: %v, want an error naming %s and its missing config digest", err, h)
	}
}

func TestFormatPlatformShowsWhatPlatformFlagsTake(t *testing.T) {
	for want, p := range map[string]*v1.Platform{
		"linux/amd64":                {OS: "linux", Architecture: "amd64"},
		"linux/arm/v7":               {OS: "linux", Architecture: "arm", Variant: "v7"},
		"windows/amd64:10.0.17763.1": {OS: "windows", Architecture: "amd64", OSVersion: "10.0.17763.1"},
		"unknown":                    nil,
	} {
		if got := formatPlatform(p); got != want {
			t.Errorf("formatPlatform(%+v) = %q, want %q", p, got, want)
		}
	}
}
