package store

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// trimMappings applies MADV_DONTNEED to the mappings of files under dir
// that cannot hold modified private pages: shared ones, and read-only
// private ones. For those it only unmaps pages from this process; data
// stays in the page cache (dirty shared pages are written back as usual).
// On a writable private mapping it would discard data, so those are left
// alone.
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
		// one may only be dropped if it cannot hold modified pages.
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
