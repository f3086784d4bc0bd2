package store

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// trimMappings applies MADV_DONTNEED to the shared mappings of files
// under dir and to the read-only private ones (badger maps its tables
// read-only and never writes through them). For those it only unmaps pages
// from this process; data stays in the page cache (dirty shared pages are
// written back as usual). A writable private mapping may hold modified
// copies of pages that this would discard, so those are left alone.
func trimMappings(dir string) {
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || !strings.HasPrefix(fields[5], dir) {
			continue
		}
		perms := fields[1]
		// Shared mappings keep their data in the page cache; a private
		// one is dropped only if it is read-only.
		if !strings.HasSuffix(perms, "s") && strings.Contains(perms, "w") {
			continue
		}
		start, end, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		lo, err1 := strconv.ParseUint(start, 16, 64)
		hi, err2 := strconv.ParseUint(end, 16, 64)
		if err1 != nil || err2 != nil || hi <= lo {
			continue
		}
		syscall.Syscall(syscall.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), uintptr(syscall.MADV_DONTNEED))
	}
}
