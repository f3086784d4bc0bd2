package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenTruncatedTable: a badger table cut short is an error naming the
// file, not a panic in one of badger's goroutines (which no recover of
// ours can catch: the test binary itself would die).
func TestOpenTruncatedTable(t *testing.T) {
	for _, size := range []int64{2, 100} {
		dir := t.TempDir()
		ctx := context.Background()
		r, err := Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 50; i++ {
			if err := r.Blocks.Put(ctx, randomBlock(t, 1<<10)); err != nil {
				t.Fatal(err)
			}
		}
		r.Close() // flushes the memtable into a table
		tables, _ := filepath.Glob(filepath.Join(dir, "datastore", "*.sst"))
		if len(tables) == 0 {
			t.Fatal("no table after closing the repo")
		}
		if err := os.Truncate(tables[0], size); err != nil {
			t.Fatal(err)
		}
		r, err = Open(ctx, dir)
		if err == nil {
			r.Close()
			t.Fatalf("opened a repo whose table %s is cut to %d bytes", tables[0], size)
		}
		if msg := err.Error(); !strings.Contains(msg, tables[0]) || strings.Contains(msg, "\n") {
			t.Errorf("truncated to %d bytes: want one line naming %s, got %q", size, tables[0], msg)
		}
	}
}
