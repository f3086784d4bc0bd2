package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	blocks "github.com/ipfs/go-block-format"
	"golang.org/x/sys/unix"
)

// TestValueLogAheadWritesBackAndKeepsData writes blocks as a push does and
// checks both halves of the bargain: what badger has written to its value
// log is on its way to the disk long before badger's own msync (the
// kernel alone would wait 30 s), and every block reads back intact, before
// and after reopening. (The other half of the work, zeroing pages ahead of
// the writer, leaves nothing to observe: the kernel's own readahead would
// have zeroed the same pages, on the writer's time.)
func TestValueLogAheadWritesBackAndKeepsData(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	var written []blocks.Block
	// 48 MiB of blocks small enough for badger's value log.
	for range 6 {
		batch := make([]blocks.Block, 8<<20/badgerBlock)
		for i := range batch {
			batch[i] = randomBlock(t, badgerBlock)
		}
		if err := r.Blocks.PutMany(ctx, batch); err != nil {
			t.Fatal(err)
		}
		written = append(written, batch...)
	}

	dsDir := filepath.Join(dir, "datastore")
	name, _, err := headValueLog(dsDir)
	if err != nil || name == "" {
		t.Fatalf("no value-log file in %s: %v", dsDir, err)
	}
	head := filepath.Join(dsDir, name)
	deadline := time.Now().Add(10 * time.Second)
	for {
		pending, allocated, ok := delayedAllocation(t, head)
		if !ok {
			t.Skipf("%s: the file system does not report delayed allocation", dsDir)
		}
		// Half: rounds run every 8 MiB, behind the writer.
		if allocated >= 16<<20 && allocated >= pending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d bytes allocated, %d still waiting for writeback: nothing was written back early", name, allocated, pending)
		}
		time.Sleep(20 * time.Millisecond)
	}

	checkBlocks(t, r, written)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if r, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkBlocks(t, r, written)
}

// delayedAllocation asks the file system (FIEMAP) how many bytes of path
// wait for writeback to give them a place on disk (ext4's delayed
// allocation), and how many have one.
func delayedAllocation(t *testing.T, path string) (pending, allocated int64, ok bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const (
		fsIocFiemap    = 0xC020660B // _IOWR('f', 11, struct fiemap)
		extentLast     = 0x1
		extentDelalloc = 0x4
		maxExtents     = 512
	)
	type extent struct {
		logical, physical, length uint64
		_                         [2]uint64
		flags                     uint32
		_                         [3]uint32
	}
	var req struct {
		start, length           uint64
		flags, mapped, count, _ uint32
		extents                 [maxExtents]extent
	}
	for start := uint64(0); ; {
		req.start, req.length, req.count = start, ^uint64(0)-start, maxExtents
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&req))); errno != 0 {
			return 0, 0, false
		}
		if req.mapped == 0 {
			return pending, allocated, true
		}
		for _, e := range req.extents[:req.mapped] {
			if e.flags&extentDelalloc != 0 {
				pending += int64(e.length)
			} else {
				allocated += int64(e.length)
			}
			start = e.logical + e.length
			if e.flags&extentLast != 0 {
				return pending, allocated, true
			}
		}
	}
}
