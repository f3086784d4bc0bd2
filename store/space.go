package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/blockstore"
	blocks "github.com/ipfs/go-block-format"
	"golang.org/x/sys/unix"
)

// ErrDiskFull reports a write refused because the repo's filesystem is
// (nearly) full.
var ErrDiskFull = errors.New("no space left on device")

const (
	// writeReserve is the free space block writes leave untouched. badger
	// writes through memory-mapped files, so running the disk dry does not
	// fail a write: it kills the process with SIGBUS, and the next open,
	// which maps a fresh memtable, dies the same way. What is kept back
	// lets the repo open, record metadata, and run gc.
	writeReserve = 32 << 20
	// openReserve is the least free space the repo opens with.
	openReserve = 8 << 20
	// recheckEvery bounds the bytes written between looks at the disk,
	// since other processes use it too.
	recheckEvery = 16 << 20
)

// freeSpace returns the bytes an unprivileged writer may still use on the
// filesystem holding dir.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("check free space in %s: %w", dir, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// checkOpenSpace refuses to open a repo badger could not even start in.
func checkOpenSpace(dir string) error {
	free, err := freeSpace(dir)
	if err != nil {
		return err
	}
	if free < openReserve {
		return fmt.Errorf("%w: the filesystem holding %s has %s free; the repo needs %s to open (free some space, then run imgp2p gc)",
			ErrDiskFull, dir, mib(free), mib(openReserve))
	}
	return nil
}

// spaceGuardBlockstore refuses block writes that would eat into
// writeReserve, with an error instead of a crash.
type spaceGuardBlockstore struct {
	blockstore.Blockstore
	dir string

	mu sync.Mutex
	// free is the space seen at the last look, less what was written since.
	free      int64
	sinceLook int64
	looked    bool
}

func (g *spaceGuardBlockstore) reserve(n int64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.looked || g.sinceLook >= recheckEvery || g.free-n < writeReserve {
		free, err := freeSpace(g.dir)
		if err != nil {
			return err
		}
		g.free, g.sinceLook, g.looked = free, 0, true
	}
	if g.free-n < writeReserve {
		return fmt.Errorf("%w: the filesystem holding %s has %s free, and imgp2p keeps %s of it so the repo stays usable (free some space, or run imgp2p gc)",
			ErrDiskFull, g.dir, mib(g.free), mib(writeReserve))
	}
	g.free -= n
	g.sinceLook += n
	return nil
}

func (g *spaceGuardBlockstore) Put(ctx context.Context, b blocks.Block) error {
	if err := g.reserve(int64(len(b.RawData()))); err != nil {
		return err
	}
	return g.Blockstore.Put(ctx, b)
}

func (g *spaceGuardBlockstore) PutMany(ctx context.Context, bs []blocks.Block) error {
	var n int64
	for _, b := range bs {
		n += int64(len(b.RawData()))
	}
	if err := g.reserve(n); err != nil {
		return err
	}
	return g.Blockstore.PutMany(ctx, bs)
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
