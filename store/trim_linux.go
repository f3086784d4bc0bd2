package store

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// trimMappings applies MADV_DONTNEED to every shared mapping of a file
// under dir. For a shared file mapping this only unmaps pages from this
// process (dirty pages stay dirty in the page cache and are written back
// as usual); it would discard data in a private mapping, so those are left
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
		if len(fields) < 6 || !strings.HasSuffix(fields[1], "s") || !strings.HasPrefix(fields[5], dir) {
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
