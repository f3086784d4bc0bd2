package store

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	pin "github.com/ipfs/boxo/pinning/pinner"
)

// gc copies the live blocks of the value-log files it rewrites into the
// file badger appends to, through badger's shared mappings, outside the
// blockstore that trims them: a daemon's RSS showed every block moved (64
// MiB more after each gc of a rolling update of 64 MiB images) until its
// next periodic trim.
func TestGCLeavesNoMappedPages(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if free, err := freeSpace(dir); err != nil || free < 512<<20 {
		t.Skipf("needs 512 MiB free in %s to seal (free %d, %v)", dir, free, err)
	}
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Live blocks gc moves to a new value-log file, and garbage beside
	// them: enough in the head file to seal it (sealWorthIt).
	putVersion(t, r, nil, badgerBlock) // rollingOwn MiB, unpinned
	live := putVersion(t, r, nil, badgerBlock)
	if err := r.Pins.PinWithMode(ctx, live, pin.Recursive, ""); err != nil {
		t.Fatal(err)
	}
	dsDir := filepath.Join(dir, "datastore")
	r.ReleaseMappedPages()
	if _, err := r.GC(ctx); err != nil {
		t.Fatal(err)
	}
	if rss := mappedRSS(t, dsDir); rss > 8<<20 {
		t.Errorf("after gc this process maps %.1f MiB of %s, want at most 8", float64(rss)/(1<<20), dsDir)
	}
}

// mappedRSS sums the resident pages of this process's mappings of files
// under dir.
func mappedRSS(t *testing.T, dir string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	var total int64
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// A mapping's header: start-end perms offset dev inode [path].
		if len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && strings.HasPrefix(fields[5], dir)
			continue
		}
		if in && len(fields) == 3 && fields[0] == "Rss:" {
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			total += kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}
