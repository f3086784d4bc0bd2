package store

import (
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// aheadLead is how far past badger's write position the page cache is
// asked to be prepared. The kernel reads at most one readahead window per
// WILLNEED (8 MiB on the development machines' disk) and drops the rest;
// asking for all of it in 128 KiB pieces made pushes slower (see
// e2e/cmd/bench/FINDINGS.md), so the partial preparation is kept.
const aheadLead = 32 << 20

// valueLogAhead does, on a spare core, work that would otherwise stall
// badger's single value-log writer. That writer was the critical path of a
// push or a pull until image chunks moved to packs (packs.go); it now
// writes the blocks between 4 and 128 KiB.
// badger writes through a shared mapping of a sparse file:
//
//   - its first touch of each page faults, and the kernel zeroes a new
//     page-cache page for the hole under it (11-22% of the machine's CPU
//     during a 1 GiB push, all of it on the writer). Readahead of the
//     hole ahead of the writer zeroes those pages here instead.
//   - when badger moves to a new file it msyncs the old one and waits for
//     all 64 MiB to reach the disk (35 ms each, 0.6 s per GiB). Writeback
//     started here as the file fills leaves the msync little to do.
//
// Neither changes what is on disk or when badger considers it durable.
type valueLogAhead struct {
	dir      string
	fileSize int64 // badger's ValueLogFileSize

	mu      sync.Mutex
	running bool
	stopped bool
	done    sync.WaitGroup
	// Touched by one round at a time.
	head    string // the file being prepared
	advised int64  // how much of it has been
}

// kick starts a round in the background unless one is still running.
func (v *valueLogAhead) kick() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.running || v.stopped {
		return
	}
	v.running = true
	v.done.Add(1)
	go v.round()
}

// stop waits for a running round and refuses new ones: the repo is
// closing, and badger is about to unmap the files a round works on.
func (v *valueLogAhead) stop() {
	v.mu.Lock()
	v.stopped = true
	v.mu.Unlock()
	v.done.Wait()
}

func (v *valueLogAhead) round() {
	defer func() {
		v.mu.Lock()
		v.running = false
		v.mu.Unlock()
		v.done.Done()
	}()
	name, used, err := headValueLog(v.dir)
	if err != nil || name == "" {
		return
	}
	f, err := os.Open(filepath.Join(v.dir, name))
	if err != nil {
		return
	}
	defer f.Close()
	fd := int(f.Fd())
	// Writeback write-protects each page it cleans, and a page still
	// mapped costs a TLB shootdown across cores (17% of a push's CPU when
	// tried): unmap first. This also keeps the written pages out of RSS.
	trimMappings(v.dir)
	// Starts writeback without waiting for it to finish (it can still
	// block while the disk's queue is full: one reason this runs here, off
	// the write path).
	unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE)

	if name != v.head {
		v.head, v.advised = name, 0
	}
	// used counts the blocks badger's writes have claimed (delayed
	// allocation included), not the zeroed holes prepared here.
	from := max(used, v.advised)
	// badger moves to a new file once past fileSize: zeroing far beyond
	// it would be wasted.
	to := min(used+aheadLead, v.fileSize+(2<<20))
	if to > from {
		unix.Fadvise(fd, from, to-from, unix.FADV_WILLNEED)
		v.advised = to
	}
}
