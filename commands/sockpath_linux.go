package commands

import (
	"fmt"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// maxSocketPath is the longest path a unix socket address takes: sun_path
// is 108 bytes on Linux, including the terminating NUL.
const maxSocketPath = 107

// viaShortPath runs fn with a path naming path's socket that fits in a
// socket address. A repo deeper than that (a CI workspace, a kubelet
// volume) made the daemon fail to start ("bind: invalid argument") and
// commands unable to reach it. A longer path is reached through the
// directory's descriptor in /proc/self/fd, which bind and connect follow
// like any path.
func viaShortPath(path string, fn func(path string) error) error {
	if len(path) <= maxSocketPath {
		return fn(path)
	}
	dir, name := filepath.Split(path)
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(fd)
	return fn(fmt.Sprintf("/proc/self/fd/%d/%s", fd, name))
}
