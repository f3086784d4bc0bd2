package commands

import (
	"context"
	"fmt"

	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"

	"github.com/imgp2p/imgp2p/image"
)

// pinRm unpins root and, for a nerdctl root, the blob files it was pinned
// with (its blobs hang off ipfs:// urls, not links, so they carry pins of
// their own), except files another pinned image still needs: blobs shared
// between images are one file, and one pin.
func (b *localBackend) pinRm(ctx context.Context, root cid.Cid) error {
	// Pins of other images must not change while we decide what they need.
	b.pinMu.Lock()
	defer b.pinMu.Unlock()
	return b.pinRmLocked(ctx, root)
}

// pinRmLocked is pinRm for a caller that holds pinMu.
func (b *localBackend) pinRmLocked(ctx context.Context, root cid.Cid) error {
	files := b.ownPinnedFiles(ctx, root)
	if err := b.repo.Pins.Unpin(ctx, root, true); err != nil {
		return fmt.Errorf("unpin %s: %w", root, err)
	}
	if len(files) > 0 {
		needed, err := b.filesOfOtherPins(ctx, root, files)
		if err != nil {
			return fmt.Errorf("unpin %s: its blob files stay pinned: %w", root, err)
		}
		for _, f := range files {
			if needed[f.KeyString()] {
				continue
			}
			if err := b.repo.Pins.Unpin(ctx, f, true); err != nil {
				return fmt.Errorf("unpin %s: blob file %s: %w", root, f, err)
			}
		}
	}
	return b.repo.Pins.Flush(ctx)
}

// ownPinnedFiles is what root pins besides itself: nothing for a native
// root, whose DAG links everything, or for a CID that is no image.
func (b *localBackend) ownPinnedFiles(ctx context.Context, root cid.Cid) []cid.Cid {
	r, err := image.Open(ctx, b.repo.OfflineDAG(), root)
	if err != nil {
		return nil
	}
	set, err := r.PinSet(ctx)
	if err != nil || len(set) < 2 {
		return nil
	}
	return set[1:]
}

// filesOfOtherPins is the subset of files that another pinned image pins
// too.
func (b *localBackend) filesOfOtherPins(ctx context.Context, root cid.Cid, files []cid.Cid) (map[string]bool, error) {
	isFile := map[string]bool{}
	for _, f := range files {
		isFile[f.KeyString()] = true
	}
	needed := map[string]bool{}
	for p := range b.repo.Pins.RecursiveKeys(ctx, false) {
		if p.Err != nil {
			return nil, p.Err
		}
		if p.Pin.Key.Equals(root) || isFile[p.Pin.Key.KeyString()] {
			continue
		}
		for _, f := range b.ownPinnedFiles(ctx, p.Pin.Key) {
			if isFile[f.KeyString()] {
				needed[f.KeyString()] = true
			}
		}
	}
	// The pinner's stream ends silently when ctx does: a partial list
	// would unpin files still needed.
	return needed, ctx.Err()
}

// pinRmReplaced unpins every image whose names have all moved to newer
// pinned images: the versions a rolling update left behind. Pushing or
// pulling app:latest again moves the name and keeps the image before
// pinned under its CID alone (as docker keeps an image whose tag moved), so
// a repo updated daily under one name would otherwise grow by a version a
// day unless each old CID was noted and unpinned. Left alone: an image that
// never had a name (nothing replaced it), and one whose name now names
// nothing pinned (the newer image was unpinned: this is the one to fall
// back to, and a name must not end up keeping nothing).
func (b *localBackend) pinRmReplaced(ctx context.Context) ([]pinInfo, error) {
	// Which names are held, and by what, must stay as read until the
	// unpins are done: a push holds pinMu from moving a name to its image
	// until it has pinned it, or, failing, given the name back. Read in
	// between, an image that was about to get its name back looks
	// replaced, and is unpinned as the one it names.
	b.pinMu.Lock()
	defer b.pinMu.Unlock()
	recs, err := b.repo.Images.List(ctx)
	if err != nil {
		return nil, err
	}
	held := map[string]bool{} // names of pinned images
	var nameless []cid.Cid    // pinned images without names
	for _, rec := range recs {
		_, pinned, err := b.repo.Pins.IsPinnedWithType(ctx, rec.Root, pin.Recursive)
		if err != nil {
			return nil, err
		}
		switch {
		case !pinned:
		case len(rec.Names) == 0:
			nameless = append(nameless, rec.Root)
		default:
			for _, n := range rec.Names {
				held[n] = true
			}
		}
	}
	out := []pinInfo{}
	for _, root := range nameless {
		// The names an image was given are in its own index.json; the
		// repo's record lost them when they moved.
		r, err := image.Open(ctx, b.repo.OfflineDAG(), root)
		if err != nil {
			continue // not readable: whether it had names is unknown
		}
		exp, err := r.Plan(ctx, image.ExportOptions{})
		if err != nil || len(exp.Names()) == 0 || !allHeld(exp.Names(), held) {
			continue
		}
		if err := b.pinRmLocked(ctx, root); err != nil {
			return out, err
		}
		out = append(out, pinInfo{Root: root.String()})
	}
	return out, nil
}

func allHeld(names []string, held map[string]bool) bool {
	for _, n := range names {
		if !held[n] {
			return false
		}
	}
	return true
}
