package commands

import (
	"context"
	"testing"

	"github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
)

// pinMuWatch notes whether a pin was read while pinMu was free, that is,
// while a push could be between moving a name to its image and pinning it
// (or giving the name back).
type pinMuWatch struct {
	pin.Pinner
	b        *localBackend
	unlocked bool
}

func (w *pinMuWatch) IsPinnedWithType(ctx context.Context, c cid.Cid, mode pin.Mode) (string, bool, error) {
	if w.b.pinMu.TryLock() {
		w.b.pinMu.Unlock()
		w.unlocked = true
	}
	return w.Pinner.IsPinnedWithType(ctx, c, mode)
}

// pin rm --replaced decides which images are replaced from the names and
// pins it reads, so it must read them under pinMu, as the unpins are. A
// push again of an older, pinned version takes its name back from the
// current one (holding pinMu); if its pin then fails, the name goes back.
// Read in between, the current version looked replaced by the old one and
// was unpinned while keeping its name: gc then deleted the version the
// name points at.
func TestPinRmReplacedDecidesUnderPinMu(t *testing.T) {
	ctx := context.Background()
	repo, imp := repoWithImage(t)
	b := &localBackend{repo: repo}
	imp.Names = []string{"app:latest"}
	if err := b.pinAndRecord(ctx, imp, nil); err != nil {
		t.Fatal(err)
	}
	watch := &pinMuWatch{Pinner: repo.Pins, b: b}
	repo.Pins = watch
	if _, err := b.pinRmReplaced(ctx); err != nil {
		t.Fatal(err)
	}
	if watch.unlocked {
		t.Fatal("pin rm --replaced read pins without holding pinMu: a push can move names between its reads and its unpins")
	}
}
