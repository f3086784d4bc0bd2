package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ipfs/boxo/blockstore"
	"github.com/ipfs/boxo/datastore/dshelp"
	blocks "github.com/ipfs/go-block-format"
)

// TestDamageOnDiskIsAnError flips a bit of a chunk in the value log and of
// a small block in a table, as a failing disk would, and checks that
// neither is ever read back: the chunk is an error naming it, the small
// block an error or missing, and an undamaged block still reads whole.
func TestDamageOnDiskIsAnError(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Enough small blocks to fill several table blocks: badger reads the
	// last one of each table as it opens the table, so the one damaged
	// is the first in key order. The chunks' keys (and where their values
	// lie) must not share its table block: they sort after the tenth.
	var smalls []blocks.Block
	for range 100 {
		smalls = append(smalls, randomBlock(t, 1000))
	}
	slices.SortFunc(smalls, func(a, b blocks.Block) int { return strings.Compare(tableKey(a), tableKey(b)) })
	small := smalls[0]
	chunkBlock := func() blocks.Block {
		for {
			if b := randomBlock(t, 64<<10); tableKey(b) > tableKey(smalls[9]) {
				return b
			}
		}
	}
	chunk, whole := chunkBlock(), chunkBlock()
	all := append([]blocks.Block{chunk, whole}, smalls...)
	if err := r.Blocks.PutMany(ctx, all); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// Once more, so that the chunk's value-log file is no longer the
	// newest: badger cuts that one short at its first bad entry as it
	// opens, taking the blocks after it too (see corruptValueLog in e2e).
	if r, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	dsDir := filepath.Join(dir, "datastore")
	flipByteOf(t, dsDir, ".vlog", chunk.RawData()[30000:30064])
	flipByteOf(t, dsDir, ".sst", small.RawData()[500:564])

	if r, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := r.Blocks.Get(ctx, chunk.Cid())
	if !errors.Is(err, blockstore.ErrHashMismatch) || !strings.Contains(err.Error(), chunk.Cid().String()) || !strings.Contains(err.Error(), "imgp2p verify") {
		t.Errorf("Get of a damaged chunk: %v (block %v), want a hash mismatch naming %s and imgp2p verify", err, b != nil, chunk.Cid())
	}
	if b, err := r.Blocks.Get(ctx, small.Cid()); err == nil {
		t.Errorf("Get of a damaged small block returned %d bytes (intact: %v), want an error", len(b.RawData()), bytes.Equal(b.RawData(), small.RawData()))
	}
	if b, err := r.Blocks.Get(ctx, whole.Cid()); err != nil || !bytes.Equal(b.RawData(), whole.RawData()) {
		t.Errorf("Get of an undamaged block: %v", err)
	}
}

// tableKey is where b sorts in badger's tables.
func tableKey(b blocks.Block) string {
	return dshelp.MultihashToDsKey(b.Cid().Hash()).String()
}

// flipByteOf flips one bit of the one copy of part in the files of dir
// whose names end in ext.
func flipByteOf(t *testing.T, dir, ext string, part []byte) {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
	found := 0
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		i := bytes.Index(raw, part)
		if i < 0 {
			continue
		}
		found++
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteAt([]byte{raw[i+len(part)/2] ^ 0x10}, int64(i+len(part)/2))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if found != 1 {
		t.Fatalf("%d copies of the bytes to damage in %s/*%s, want 1 (files: %v)", found, dir, ext, names)
	}
}
