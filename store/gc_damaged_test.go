package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ipfs/boxo/ipld/merkledag"
	pin "github.com/ipfs/boxo/pinning/pinner"
	ipld "github.com/ipfs/go-ipld-format"
)

// copyDir copies the flat files of a badger repo's tree.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestGCRefusesDamagedTables: with a table block damaged on disk, badger
// answers "not found" for the keys in it, and iterations end early at it,
// silently. A collection then took a pinned node for missing, could not
// mark the blocks under it, and deleted them (90 MiB of a pinned image in
// a manual run); its compaction then dropped every key past the damage.
// gc must refuse to run instead, having deleted nothing.
func TestGCRefusesDamagedTables(t *testing.T) {
	ctx := context.Background()
	clean := t.TempDir()
	r, err := Open(ctx, clean)
	if err != nil {
		t.Fatal(err)
	}
	parent := merkledag.NodeWithData(nil)
	for i := 0; i < 300; i++ {
		b := randomBlock(t, 5<<10)
		if err := r.Blocks.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		parent.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: 5 << 10})
	}
	if err := r.Blocks.Put(ctx, parent); err != nil {
		t.Fatal(err)
	}
	if err := r.Pins.PinWithMode(ctx, parent.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	r.Close() // the keys go into a table
	tables, _ := filepath.Glob(filepath.Join(clean, "datastore", "*.sst"))
	if len(tables) != 1 {
		t.Fatalf("want one table, got %v", tables)
	}
	fi, err := os.Stat(tables[0])
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	// Damage each 2 KiB step of the table in turn (the data blocks are
	// 4 KiB); a step that stops the repo opening is not this test's case.
	for off := int64(64); off < fi.Size()-512; off += 2 << 10 {
		dir := t.TempDir()
		copyDir(t, clean, dir)
		f, err := os.OpenFile(filepath.Join(dir, "datastore", filepath.Base(tables[0])), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.WriteAt([]byte{0xff, 0xfe, 0xfd, 0xfc}, off)
		f.Close()
		r, err := Open(ctx, dir)
		if err != nil {
			continue
		}
		damaged++
		res, err := r.GC(ctx)
		r.Close()
		if res.Blocks > 0 {
			t.Errorf("damage at byte %d: gc deleted %d blocks of a repo holding only pinned ones (%v)", off, res.Blocks, err)
			continue
		}
		if err == nil {
			t.Errorf("damage at byte %d: gc succeeded on a damaged table", off)
		}
	}
	if damaged == 0 {
		t.Fatal("no damaged repo opened: nothing was tested")
	}
}

// TestGCRefusesMissingPinnedBlock: a pinned node that is not in the repo
// hides what it links to; gc must not sweep, as Kubo's does not.
func TestGCRefusesMissingPinnedBlock(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	parent := merkledag.NodeWithData(nil)
	for i := 0; i < 8; i++ {
		b := randomBlock(t, 5<<10)
		r.Blocks.Put(ctx, b)
		parent.AddRawLink("", &ipld.Link{Cid: b.Cid(), Size: 5 << 10})
	}
	root := merkledag.NodeWithData(nil)
	root.AddNodeLink("", parent)
	r.Blocks.Put(ctx, parent)
	r.Blocks.Put(ctx, root)
	if err := r.Pins.PinWithMode(ctx, root.Cid(), pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.Blocks.DeleteBlock(ctx, parent.Cid()); err != nil {
		t.Fatal(err)
	}
	res, err := r.GC(ctx)
	if res.Blocks > 0 {
		t.Fatalf("gc deleted %d blocks under a pin whose node %s is missing", res.Blocks, parent.Cid())
	}
	if err == nil {
		t.Fatal("gc succeeded with a pinned node missing")
	}
	t.Logf("gc: %v", err)
}
