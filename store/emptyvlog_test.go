package store

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	blocks "github.com/ipfs/go-block-format"
)

// A process killed between badger creating its next value-log file and
// sizing it leaves that file empty; the repo must still open, with every
// block it held.
func TestRepoOpensWithTheEmptyValueLogACrashLeft(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var written []blocks.Block
	for range 4 {
		b := randomBlock(t, badgerBlock)
		if err := r.Blocks.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		written = append(written, b)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	dsDir := filepath.Join(dir, "datastore")
	head, _, err := headValueLog(dsDir)
	if err != nil || head == "" {
		t.Fatalf("no value-log file in %s: %v", dsDir, err)
	}
	// The next file, as badger names it, created and never sized.
	var fid int
	if _, err := fmt.Sscanf(head, "%06d.vlog", &fid); err != nil {
		t.Fatalf("value-log name %q: %v", head, err)
	}
	empty := filepath.Join(dsDir, fmt.Sprintf("%06d.vlog", fid+1))
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	r, err = Open(ctx, dir)
	if err != nil {
		t.Fatalf("open after a crash left %s empty: %v", filepath.Base(empty), err)
	}
	defer r.Close()
	checkBlocks(t, r, written)
	b := randomBlock(t, badgerBlock)
	if err := r.Blocks.Put(ctx, b); err != nil {
		t.Fatalf("writing after the reopen: %v", err)
	}
	checkBlocks(t, r, append(written, b))
}

func checkBlocks(t *testing.T, r *Repo, want []blocks.Block) {
	t.Helper()
	for _, b := range want {
		got, err := r.Blocks.Get(context.Background(), b.Cid())
		if err != nil {
			t.Fatalf("block %s: %v", b.Cid(), err)
		}
		if !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatalf("block %s reads back different bytes", b.Cid())
		}
	}
}
