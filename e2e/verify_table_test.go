package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestDamagedTable: a damaged block in one of badger's tables (where the
// keys live: the block index, pins, the image list) hides the keys in it
// instead of failing. verify must say the tables are damaged, and gc must
// refuse to run: it used to take the hidden pinned nodes for missing and
// compact the damaged table, dropping every key past the damage for good,
// so that two of three pinned images vanished from ls without an error.
// Once the table is restored, everything is still there.
func TestDamagedTable(t *testing.T) {
	r := newRepo(t)
	r.push(randomLayout(t, 128, 613))
	r.push(randomLayout(t, 16, 614))
	r.push(helloLayout(t))
	before := verifySummary.FindSubmatch(r.ok("verify").stderr)
	listed := r.listed()

	tables, _ := filepath.Glob(filepath.Join(r.dir, "datastore", "*.sst"))
	var table string
	var size int64
	for _, f := range tables {
		if fi, err := os.Stat(f); err == nil && fi.Size() > size {
			table, size = f, fi.Size()
		}
	}
	// The first of several 4 KiB blocks: damage in the last one stops the
	// repo opening, which is not this test's case.
	if size < 12<<10 {
		t.Fatalf("the largest table is %d bytes (%v): too small to damage only a middle block", size, tables)
	}
	orig := readFile(t, table)
	damaged := bytes.Clone(orig)
	copy(damaged[64:], []byte{0xff, 0xfe, 0xfd, 0xfc})
	if err := os.WriteFile(table, damaged, 0o644); err != nil {
		t.Fatal(err)
	}

	res := r.fails("verify")
	if !bytes.Contains(res.stdout, []byte("datastore")) || !bytes.Contains(res.stdout, []byte("checksum")) {
		t.Errorf("verify does not report the damaged table on stdout: %v", res)
	}
	res = r.fails("gc")
	if !bytes.Contains(res.stderr, []byte("nothing was deleted")) {
		t.Errorf("gc on a damaged table should refuse, deleting nothing: %v", res)
	}

	if err := os.WriteFile(table, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	after := verifySummary.FindSubmatch(r.ok("verify").stderr)
	if !bytes.Equal(after[0], before[0]) {
		t.Errorf("with the table restored, verify says %q; before the damage it said %q", after[0], before[0])
	}
	if got := r.listed(); len(got) != len(listed) {
		t.Errorf("ls -q with the table restored = %v, before the damage %v", got, listed)
	}
}
