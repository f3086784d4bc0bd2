package store

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestTrimMappingsReleasesMappedPages: trimMappings drops this process's
// pages of the files under dir (madvise MADV_DONTNEED, a raw syscall whose
// number differs by architecture), so the file-backed part of RSS falls
// by their size, and leaves the mappings of other files alone. A failed
// madvise is ignored by trimMappings: only RSS shows it.
func TestTrimMappingsReleasesMappedPages(t *testing.T) {
	const size = 16 << 20
	dir := t.TempDir()
	mapTouched(t, filepath.Join(dir, "000001.vlog"), size)
	mapTouched(t, filepath.Join(t.TempDir(), "elsewhere"), size)

	before := rssFile(t)
	trimMappings(dir)
	dropped := before - rssFile(t)
	// Other file pages of the process (its own text) may come and go a
	// little; the other 16 MiB mapping must not.
	if dropped < size*3/4 || dropped > size*5/4 {
		t.Errorf("trimming %s released %d KiB of file-backed RSS, want about %d KiB (its mapping, not the one elsewhere)", dir, dropped>>10, size>>10)
	}
}

// mapTouched writes a file of size bytes at path, maps it shared and
// read-only as badger maps its tables, and reads every page, so all of it
// counts in this process's RSS. The mapping lasts until the test ends.
func mapTouched(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(m) })
	var sum byte
	for i := 0; i < size; i += os.Getpagesize() {
		sum += m[i]
	}
	if sum != 0 {
		t.Fatalf("%s: read back bytes that were never written", path)
	}
}

// rssFile is the file-backed part of this process's resident memory, in
// bytes (RssFile in /proc/self/status, which qemu-user passes through).
func rssFile(t *testing.T) int {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kib, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("RssFile: %q: %v", v, err)
			}
			return kib << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
