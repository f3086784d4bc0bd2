package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDaemonPushAndPullAreDurable: once push prints a CID or pull reports
// done through a daemon, which keeps running, what they stored must be on
// disk, not only in the page cache: an edge box or a ship loses power
// with the daemon up, and an image the command said was there must be
// there after the reboot. badger writes without syncing, so a pull left
// its keys in the memtable's log unsynced (9 dirty pages after 16 MiB)
// until the kernel flushed them, 30 s later. (A push was synced already,
// by boxo's pinner flushing its pins; the check keeps it so.) cachestat(2)
// tells which pages of the repo's files are still dirty.
func TestDaemonPushAndPullAreDurable(t *testing.T) {
	a, b := newRepo(t), newRepo(t)
	da := a.startDaemon("--mdns=false")
	cid := a.push(randomLayout(t, 16, 77))
	wantNoDirtyPages(t, "after push through the daemon", a.dir)

	b.startDaemon("--mdns=false")
	b.ok("pull", "--peer", da.Addr, "--timeout", "2m", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
	wantNoDirtyPages(t, "after pull through the daemon", b.dir)
}

// wantNoDirtyPages checks badger's write-ahead logs (*.mem) and value logs
// (*.vlog), and the packs (*.pack), under repo for pages not yet written
// to disk. A value-log file's last page is allowed: badger truncates a
// full file after syncing it, and the kernel zeroes, so dirties, the rest
// of its last page, past the data.
func wantNoDirtyPages(t *testing.T, when, repo string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repo, "datastore", "*"))
	if err != nil {
		t.Fatal(err)
	}
	packs, err := filepath.Glob(filepath.Join(repo, "blocks", "*.pack"))
	if err != nil || len(packs) == 0 {
		t.Fatalf("%s: no packs in %s (%v)", when, repo, err)
	}
	for _, path := range append(files, packs...) {
		if !strings.HasSuffix(path, ".mem") && !strings.HasSuffix(path, ".vlog") && !strings.HasSuffix(path, ".pack") {
			continue
		}
		if dirty := dirtyPages(t, path); len(dirty) > 0 {
			t.Errorf("%s: %s has dirty pages %v", when, filepath.Base(path), dirty)
		}
	}
}

// dirtyPages lists the pages of path in the page cache not yet written
// back, but for a value log's last page.
func dirtyPages(t *testing.T, path string) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	page := int64(os.Getpagesize())
	last := (st.Size() - 1) / page
	var whole unix.Cachestat_t
	if err := unix.Cachestat(uint(f.Fd()), &unix.CachestatRange{}, &whole, 0); err != nil {
		need(t, "cachestat(2) (Linux 6.5)", fmt.Errorf("cachestat %s: %w", path, err))
	}
	if whole.Dirty == 0 {
		return nil
	}
	var dirty []int64
	for i := int64(0); i*page < st.Size(); i++ {
		var cs unix.Cachestat_t
		if err := unix.Cachestat(uint(f.Fd()), &unix.CachestatRange{Off: uint64(i * page), Len: uint64(page)}, &cs, 0); err != nil {
			t.Fatal(err)
		}
		if cs.Dirty > 0 && !(i == last && strings.HasSuffix(path, ".vlog")) {
			dirty = append(dirty, i)
		}
	}
	return dirty
}
