package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSeederServesAPushedImageAroundThePageCache: a push writes its chunks
// around the page cache, and a daemon sending them to a peer the first
// time reads them around it too (filling the cache costs more CPU than
// the reads: the first serving of 1 GiB took 2.5-2.9 s of the seeder's
// CPU through the cache, 2.0-2.5 s around it). The second time a peer
// asks, the daemon reads through the cache, which then serves the image
// again and again.
func TestSeederServesAPushedImageAroundThePageCache(t *testing.T) {
	a := newRepo(t)
	var fs unix.Statfs_t
	if err := unix.Statfs(a.dir, &fs); err == nil && fs.Type == unix.TMPFS_MAGIC {
		t.Skipf("%s is on tmpfs, which keeps every file in the page cache", a.dir)
	}
	cid := a.push(randomLayout(t, 8, 91))
	if n := cachedPackPages(t, a.dir); n != 0 {
		t.Fatalf("after push: %d pages of the repo's packs are cached, want none", n)
	}
	da := a.startDaemon("--mdns=false")
	pull := func(after string, check func(cached int) bool, want string) {
		t.Helper()
		b := newRepo(t)
		b.ok("pull", "--peer", da.Addr, "--timeout", "2m", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
		if n := cachedPackPages(t, a.dir); !check(n) {
			t.Errorf("after %s: the seeder has %d pages of its packs cached, want %s", after, n, want)
		}
	}
	pull("the first pull", func(n int) bool { return n == 0 }, "none")
	// 8 MiB of layers: 2048 pages, less what is in badger.
	pull("the second pull", func(n int) bool { return n >= 1024 }, "most")
}

// cachedPackPages counts the pages of the packs under repo in the page
// cache (cachestat(2), which, unlike a read, fills nothing).
func cachedPackPages(t *testing.T, repo string) int {
	t.Helper()
	packs, err := filepath.Glob(filepath.Join(repo, "blocks", "*.pack"))
	if err != nil || len(packs) == 0 {
		t.Fatalf("no packs in %s (%v)", repo, err)
	}
	total := 0
	for _, path := range packs {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var cs unix.Cachestat_t
		err = unix.Cachestat(uint(f.Fd()), &unix.CachestatRange{}, &cs, 0)
		f.Close()
		if err != nil {
			need(t, "cachestat(2) (Linux 6.5)", fmt.Errorf("cachestat %s: %w", path, err))
		}
		total += int(cs.Cache)
	}
	return total
}
