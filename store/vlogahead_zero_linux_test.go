package store

import (
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestValueLogAheadZeroesPagesAhead checks the half of a round that
// TestValueLogAheadWritesBackAndKeepsData cannot see through badger: the
// hole just ahead of the writer is in the page cache once a round has run
// (fadvise WILLNEED), so the writer's first touch of those pages finds
// them there. A call with its arguments in the wrong order (as 32-bit
// arm's fadvise64_64 takes them) fails with EINVAL, which a round
// ignores: only the page cache shows it. Checked with mincore, which
// reports the page cache's pages of a file mapping whether or not this
// process touched them.
//
// Only the first pages are required: the kernel reads at most the
// device's readahead window (the larger of read_ahead_kb and
// max_sectors_kb) for one WILLNEED, so a round prepares 8 MiB of its
// 32 MiB on the CI machine's disk and 128 KiB to a few MiB on most
// others. The test logs how much.
func TestValueLogAheadZeroesPagesAhead(t *testing.T) {
	dir := t.TempDir()
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skipf("%s is on tmpfs, where readahead does nothing", dir)
	}
	const (
		fileSize = 64 << 20
		used     = 4 << 20 // what badger has written
	)
	path := filepath.Join(dir, "000001.vlog")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, used)); err != nil {
		t.Fatal(err)
	}
	// badger's files are sparse: the rest is a hole.
	if err := f.Truncate(fileSize); err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, fileSize, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	page := os.Getpagesize()
	// ahead is the page cache's state of the pages a round prepares: from
	// badger's write position to aheadLead past it.
	ahead := func() []byte {
		t.Helper()
		vec := make([]byte, fileSize/page)
		// x/sys/unix has no wrapper for mincore on Linux.
		if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
			t.Fatalf("mincore: %v", errno)
		}
		return vec[used/page : (used+aheadLead)/page]
	}
	cached := func(vec []byte) (n int) {
		for _, v := range vec {
			n += int(v & 1)
		}
		return n
	}
	// Nothing has read the hole: without the round, none of it is cached.
	if n := cached(ahead()); n != 0 {
		t.Fatalf("%d pages of the hole cached before any round", n)
	}

	v := &valueLogAhead{dir: dir, fileSize: fileSize}
	v.kick()
	v.stop() // waits for the round

	deadline := time.Now().Add(10 * time.Second)
	vec := ahead()
	for ; vec[0]&1 == 0; vec = ahead() {
		if time.Now().After(deadline) {
			t.Fatalf("the page at badger's write position is not cached after a round (%d of the %d after it are): fadvise WILLNEED did not reach it", cached(vec), len(vec))
		}
		time.Sleep(20 * time.Millisecond) // polled against the deadline
	}
	t.Logf("a round cached %d KiB of the %d KiB ahead of the writer", cached(vec)*page>>10, aheadLead>>10)
}
