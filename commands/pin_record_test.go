package commands

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"

	"github.com/imgp2p/imgp2p/image"
	"github.com/imgp2p/imgp2p/store"
)

// repoWithImage opens a repo in a temp dir holding one small image.
func repoWithImage(t *testing.T) (*store.Repo, image.Imported) {
	t.Helper()
	img, err := random.Image(1<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	return repoWith(t, func(p layout.Path) error { return p.AppendImage(img) })
}

// repoWith opens a repo in a temp dir and imports into it the layout that
// fill writes.
func repoWith(t *testing.T, fill func(layout.Path) error) (*store.Repo, image.Imported) {
	t.Helper()
	ctx := context.Background()
	repo, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { repo.Close() })
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := fill(p); err != nil {
		t.Fatal(err)
	}
	imp, err := image.ImportLayout(ctx, repo.OfflineDAG(), dir, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return repo, imp
}

// listedAtPin notes whether each root was already listed when pinned.
type listedAtPin struct {
	pin.Pinner
	images *store.Images
	listed map[cid.Cid]bool
}

func (p *listedAtPin) PinWithMode(ctx context.Context, c cid.Cid, mode pin.Mode, name string) error {
	_, p.listed[c], _ = p.images.Get(ctx, c)
	return p.Pinner.PinWithMode(ctx, c, mode, name)
}

// A push lists its image before pinning it: killed in between, it leaves
// an unpinned image that ls shows and gc forgets, never pinned blocks
// that nothing lists and gc cannot free.
func TestAnImageIsListedBeforeItIsPinned(t *testing.T) {
	ctx := context.Background()
	repo, imp := repoWithImage(t)
	b := &localBackend{repo: repo}
	watch := &listedAtPin{Pinner: repo.Pins, images: repo.Images, listed: map[cid.Cid]bool{}}
	repo.Pins = watch
	if err := b.pinAndRecord(ctx, imp, nil); err != nil {
		t.Fatal(err)
	}
	if !watch.listed[imp.Root] {
		t.Fatal("the image was pinned before it was listed")
	}
}

// failingPinner refuses every new pin, as a pinner that cannot write
// (a full disk) does.
type failingPinner struct{ pin.Pinner }

var errPinRefused = errors.New("pin refused")

func (failingPinner) PinWithMode(context.Context, cid.Cid, pin.Mode, string) error {
	return errPinRefused
}

// An image whose pin fails is not left listed, and a push again of an
// image the repo already lists and pins, failing the same way, loses
// neither its listing nor its pin.
func TestAFailedPinLosesNothing(t *testing.T) {
	ctx := context.Background()
	repo, imp := repoWithImage(t)
	b := &localBackend{repo: repo}
	pins := repo.Pins

	repo.Pins = failingPinner{pins}
	if err := b.pinAndRecord(ctx, imp, nil); !errors.Is(err, errPinRefused) {
		t.Fatalf("first push: %v, want the pinner's error", err)
	}
	if _, listed, _ := repo.Images.Get(ctx, imp.Root); listed {
		t.Fatal("an image whose pin failed is listed")
	}

	repo.Pins = pins
	if err := b.pinAndRecord(ctx, imp, nil); err != nil {
		t.Fatal(err)
	}
	repo.Pins = failingPinner{pins}
	if err := b.pinAndRecord(ctx, imp, nil); !errors.Is(err, errPinRefused) {
		t.Fatalf("push again: %v, want the pinner's error", err)
	}
	if _, listed, _ := repo.Images.Get(ctx, imp.Root); !listed {
		t.Fatal("a failed push again of a listed image unlisted it")
	}
	if _, pinned, _ := pins.IsPinnedWithType(ctx, imp.Root, pin.Recursive); !pinned {
		t.Fatal("a failed push again of a pinned image unpinned it")
	}
}

// A failed push of a new image under a name an older image holds (a
// rebuilt app:v1 whose pin is refused, or cut short by Ctrl-C) leaves the
// name on the older image: listing the new one took it, and unlisting the
// new one must give it back, or the name is lost from every image.
func TestAFailedPinKeepsTheOlderImagesNames(t *testing.T) {
	ctx := context.Background()
	repo, old := repoWithImage(t)
	b := &localBackend{repo: repo}
	old.Names = []string{"app:v1", "app:stable"}
	if err := b.pinAndRecord(ctx, old, nil); err != nil {
		t.Fatal(err)
	}

	img, err := random.Image(1<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := image.ImportLayout(ctx, repo.OfflineDAG(), dir, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rebuilt.Names = []string{"app:v1"}

	pins := repo.Pins
	repo.Pins = failingPinner{pins}
	if err := b.pinAndRecord(ctx, rebuilt, nil); !errors.Is(err, errPinRefused) {
		t.Fatalf("push of the rebuilt image: %v, want the pinner's error", err)
	}
	for _, name := range []string{"app:v1", "app:stable"} {
		got, err := repo.Images.Resolve(ctx, name)
		if err != nil || !got.Equals(old.Root) {
			t.Errorf("after the failed push, %s resolves to %v (%v), want the older image %s", name, got, err, old.Root)
		}
	}

	// The same again for an image already listed: its record, and the
	// names it took, are put back as they were.
	repo.Pins = pins
	rebuilt.Names = []string{"app:v2"}
	if err := b.pinAndRecord(ctx, rebuilt, nil); err != nil {
		t.Fatal(err)
	}
	repo.Pins = failingPinner{pins}
	rebuilt.Names = []string{"app:v1"}
	if err := b.pinAndRecord(ctx, rebuilt, nil); !errors.Is(err, errPinRefused) {
		t.Fatalf("push again of the rebuilt image: %v, want the pinner's error", err)
	}
	if got, err := repo.Images.Resolve(ctx, "app:v1"); err != nil || !got.Equals(old.Root) {
		t.Errorf("after the failed push again, app:v1 resolves to %v (%v), want %s", got, err, old.Root)
	}
	if got, err := repo.Images.Resolve(ctx, "app:v2"); err != nil || !got.Equals(rebuilt.Root) {
		t.Errorf("after the failed push again, app:v2 resolves to %v (%v), want %s", got, err, rebuilt.Root)
	}
}
