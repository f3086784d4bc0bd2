package e2e

import (
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// nerdctlRootLine is `push --format nerdctl`'s whole stdout: the root is
// a raw block ("bafkrei").
var nerdctlRootLine = regexp.MustCompile(`^(bafkrei[a-z2-7]{52})\n$`)

// pushNerdctl pushes layout in nerdctl's format and returns the root.
func (r *repo) pushNerdctl(layout string) string {
	r.t.Helper()
	res := r.ok("push", "--format", "nerdctl", layout)
	m := nerdctlRootLine.FindSubmatch(res.stdout)
	if m == nil {
		r.t.Fatalf("push --format nerdctl stdout is not exactly one raw CID line: %v", res)
	}
	return string(m[1])
}

// TestPinRmNerdctl: a nerdctl-format root keeps its blobs through pins of
// their own (its blobs hang off ipfs:// urls, not links), so `pin rm` of
// the root must let those go too, except the ones another pinned image
// still needs. Left pinned, they stayed in `pin ls` and on disk forever.
// The two images are the hello image and a copy whose manifest has an
// annotation more: the config and the layer are shared.
func TestPinRmNerdctl(t *testing.T) {
	hello := helloLayout(t)
	helloCopy := annotatedCopy(t, hello, "org.example.copy", "yes")

	// What pinning the second image alone looks like.
	alone := newRepo(t)
	second := alone.pushNerdctl(helloCopy)
	wantSecond := alone.pinned()
	if len(wantSecond) < 3 {
		t.Fatalf("a nerdctl push pinned %v: want the root and its blob files", wantSecond)
	}

	r := newRepo(t)
	first := r.pushNerdctl(hello)
	if first == second {
		t.Fatalf("the annotated copy has the same root %s", first)
	}
	if got := r.pushNerdctl(helloCopy); got != second {
		t.Fatalf("pushed the copy as %s, a fresh repo gives %s", got, second)
	}
	r.ok("pin", "rm", first)
	if got := r.pinned(); !slices.Equal(got, wantSecond) {
		t.Errorf("pin ls after pin rm of %s = %v, want what %s alone pins: %v", first, got, second, wantSecond)
	}
	r.gc()
	if got := r.listed(); !slices.Equal(got, []string{second}) {
		t.Errorf("ls -q after gc = %v, want [%s]", got, second)
	}
	r.ok("verify", second)
	r.ok("pull", "--offline", "-o", filepath.Join(t.TempDir(), "copy.tar"), second)

	r.ok("pin", "rm", second)
	if got := r.pinned(); len(got) != 0 {
		t.Errorf("pin ls after both images were unpinned = %v, want nothing", got)
	}
	if n := r.gc(); n == 0 {
		t.Errorf("gc removed nothing after the last nerdctl image was unpinned")
	}
	if res := r.ok("gc"); string(res.stdout) != "removed 0 blocks (0 B)\n" {
		t.Errorf("a second gc still found something: %v", res)
	}
	r.fails("pull", "--offline", "-o", filepath.Join(t.TempDir(), "gone.tar"), second)
}

// annotatedCopy writes a new layout holding the one image of the layout
// at src with one more manifest annotation: a new manifest, the same
// config and layers.
func annotatedCopy(t *testing.T, src, key, value string) string {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(src)
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(topDescriptor(t, src).Digest)
	if err != nil {
		t.Fatal(err)
	}
	copied := mutate.Annotations(img, map[string]string{key: value}).(v1.Image)
	dir := filepath.Join(t.TempDir(), "annotated")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(copied); err != nil {
		t.Fatal(err)
	}
	return dir
}
