package store

import (
	"errors"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// directAlign is what direct I/O asks of buffers, lengths and offsets:
// a page covers every logical block size in use.
const directAlign = 4096

// errNoDirectIO says the filesystem refuses direct I/O (EINVAL at open).
var errNoDirectIO = errors.New("direct I/O not supported")

// writeDirectAt writes iovs at off in an existing pack around the page
// cache. Every buffer is aligned (see isAligned), as is off.
func writeDirectAt(path string, iovs [][]byte, off int64) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_DIRECT, 0)
	if errors.Is(err, unix.EINVAL) {
		return errNoDirectIO
	}
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	err = pwriteAll(fd, iovs, off)
	if cerr := unix.Close(fd); err == nil {
		err = cerr
	}
	if errors.Is(err, unix.EINVAL) {
		return errNoDirectIO // accepted at open, refused at the write
	}
	if err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	return nil
}

// punchHoles gives the space of holes in the pack at path back to the
// filesystem: a deleted record's, or what gc found no entry naming. A
// range already empty is left alone (SEEK_DATA finds no data in it), so
// gc going over a pack again costs a seek per gap. It returns errNoPunch
// if the filesystem cannot punch holes.
func punchHoles(path string, holes []span) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, h := range holes {
		next, err := unix.Seek(fd, h.start, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) || (err == nil && next >= h.end) {
			continue
		}
		err = unix.Fallocate(fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, h.start, h.end-h.start)
		if errors.Is(err, unix.EOPNOTSUPP) {
			return errNoPunch
		}
	}
	return nil
}

// openDirect opens a pack for reading around the page cache.
func openDirect(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_DIRECT, 0)
	if errors.Is(err, unix.EINVAL) {
		return nil, errNoDirectIO
	}
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// pwriteAll writes iovs at off, going on after a short write (the kernel
// may stop at any aligned point).
func pwriteAll(fd int, iovs [][]byte, off int64) error {
	for len(iovs) > 0 {
		n, err := unix.Pwritev(fd, iovs, off)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.EIO
		}
		off += int64(n)
		for n > 0 {
			if n >= len(iovs[0]) {
				n -= len(iovs[0])
				iovs = iovs[1:]
				continue
			}
			iovs[0] = iovs[0][n:]
			n = 0
		}
	}
	return nil
}

func isAligned(b []byte) bool {
	return len(b) > 0 && len(b)%directAlign == 0 && uintptr(unsafe.Pointer(&b[0]))%directAlign == 0
}

// alignedBuffer returns an aligned buffer of n bytes rounded up to whole pages.
func alignedBuffer(n int) []byte {
	size := (n + directAlign - 1) / directAlign * directAlign
	raw := make([]byte, size+directAlign)
	skip := (directAlign - int(uintptr(unsafe.Pointer(&raw[0]))%directAlign)) % directAlign
	return raw[skip : skip+size : skip+size]
}
