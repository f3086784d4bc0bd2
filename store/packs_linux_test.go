package store

import (
	"bytes"
	"context"
	"os"
	"testing"
	"unsafe"

	dshelp "github.com/ipfs/boxo/datastore/dshelp"
	pin "github.com/ipfs/boxo/pinning/pinner"
	blocks "github.com/ipfs/go-block-format"
	"golang.org/x/sys/unix"
)

// Packs are written around the page cache, which is what makes them
// cheaper than badger's value log: after a put, none of a chunk's pages
// may be cached (the tail of an odd-length block goes the same way), nor
// after the read that follows (a pull's tar writer reading back a chunk
// fetched ahead of it). A block read again is then read through the
// cache, as a gateway serving it over and over wants.
func TestPacksBypassThePageCache(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, size := range []int{1 << 20, 300<<10 + 17} {
		b := randomBlock(t, size)
		if err := r.Blocks.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
		skipWithoutDirectIO(t, r)
		rec, err := r.packs.locate(ctx, b.Cid())
		if err != nil {
			t.Fatal(err)
		}
		name, all := r.packs.packPath(rec.pack), int(rec.recordLen()/4096)
		if n := cachedPages(t, name, rec); n != 0 {
			t.Errorf("block of %d bytes: %d of its record's pages are in the page cache after the write, want none", size, n)
		}
		checkBlocks(t, r, []blocks.Block{b})
		if n := cachedPages(t, name, rec); n != 0 {
			t.Errorf("block of %d bytes: %d of its record's pages are in the page cache after the first read, want none", size, n)
		}
		checkBlocks(t, r, []blocks.Block{b})
		// The read asks for the block's bytes, not the padding after.
		if n := cachedPages(t, name, rec); n < all-1 {
			t.Errorf("block of %d bytes: %d of its record's %d pages are in the page cache after the second read, want all but the padding", size, n, all)
		}
	}
}

// skipWithoutDirectIO skips a test of what stays out of the page cache
// where everything is in it: a filesystem that refused direct I/O, or
// tmpfs, which accepts it (since Linux 6.6) and keeps its files there.
func skipWithoutDirectIO(t *testing.T, r *Repo) {
	t.Helper()
	if r.packs.buffered.Load() || onTmpfs(r.Path) {
		t.Skipf("%s keeps pack files in the page cache (no direct I/O, or tmpfs)", r.Path)
	}
}

func onTmpfs(path string) bool {
	var fs unix.Statfs_t
	return unix.Statfs(path, &fs) == nil && fs.Type == unix.TMPFS_MAGIC
}

// cachedPages counts the pages of a record in the page cache (mincore over
// a mapping, which does not fault them in).
func cachedPages(t *testing.T, path string, rec location) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := unix.Mmap(int(f.Fd()), rec.offset, int(rec.recordLen()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	pages := (len(m) + os.Getpagesize() - 1) / os.Getpagesize()
	vec := make([]byte, pages)
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal(errno)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// A block this process did not write is read through the page cache the
// first time, as a local reader (a tar writer, the gateway) wants, taking
// one block at a time behind the kernel's readahead; but around it the
// first time a peer asks for it (a seeder's first serving of an image it
// pushed), and through it when a peer asks again.
func TestFirstReadForAPeerBypassesThePageCache(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	local, forPeer := randomBlock(t, 1<<20), randomBlock(t, 1<<20)
	for _, b := range []blocks.Block{local, forPeer} {
		if err := r.Blocks.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	skipWithoutDirectIO(t, r)
	r.Close()

	// Another process: neither block was written by it.
	r, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	pages := func(b blocks.Block) int {
		rec, err := r.packs.locate(ctx, b.Cid())
		if err != nil {
			t.Fatal(err)
		}
		return cachedPages(t, r.packs.packPath(rec.pack), rec)
	}
	read := func(ctx context.Context, b blocks.Block) {
		got, err := r.Blocks.Get(ctx, b.Cid())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatal("the block read back different bytes")
		}
	}
	// The local block comes first in the pack: the readahead of a read of
	// the other does not reach back to it.
	read(ForPeer(ctx), forPeer)
	if n := pages(forPeer); n != 0 {
		t.Errorf("a first read for a peer left %d of the block's pages cached, want none", n)
	}
	read(ForPeer(ctx), forPeer)
	if n := pages(forPeer); n < 256 {
		t.Errorf("a second read for a peer left %d of the block's 256 pages cached, want all", n)
	}
	if n := pages(local); n != 0 {
		t.Fatalf("%d pages of the block not yet read are cached", n)
	}
	read(ctx, local)
	if n := pages(local); n < 256 {
		t.Errorf("a local first read left %d of the block's 256 pages cached, want all", n)
	}
}

// A repo on tmpfs (a container's scratch space; direct I/O there only
// since Linux 6.6, refused before): blocks written, and read for a peer
// or not, come back whole.
func TestPacksOnTmpfs(t *testing.T) {
	if !onTmpfs("/dev/shm") {
		t.Skip("no tmpfs at /dev/shm")
	}
	dir, err := os.MkdirTemp("/dev/shm", "imgp2p-packs-")
	if err != nil {
		t.Skip(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	ctx := context.Background()
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	b := randomBlock(t, 1<<20)
	if err := r.Blocks.Put(ctx, b); err != nil {
		t.Fatal(err)
	}
	checkBlocks(t, r, []blocks.Block{b})
	r.Close()

	r, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for range 2 {
		got, err := r.Blocks.Get(ForPeer(ctx), b.Cid())
		if err != nil {
			t.Fatalf("read for a peer: %v", err)
		}
		if !bytes.Equal(got.RawData(), b.RawData()) {
			t.Fatal("read for a peer: different bytes from those written")
		}
	}
}

// What no index entry names goes back to the filesystem at the next gc,
// not only with its whole pack: a record a crash wrote and never indexed,
// and a torn tail.
func TestGCPunchesWhatNoEntryNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	skipWithoutHolePunching(t, dir)
	r, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	kept := []blocks.Block{randomBlock(t, 1<<20), randomBlock(t, 1<<20)}
	orphan := randomBlock(t, 1<<20)
	for _, b := range []blocks.Block{kept[0], orphan, kept[1]} {
		if err := r.Blocks.Put(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	at, err := r.packs.locate(ctx, orphan.Cid())
	if err != nil {
		t.Fatal(err)
	}
	// The crash: the record's entry never reached the index.
	if err := r.packs.index.Delete(ctx, dshelp.MultihashToDsKey(orphan.Cid().Hash())); err != nil {
		t.Fatal(err)
	}
	pack := r.packs.packPath(at.pack)
	r.Close()
	f, err := os.OpenFile(pack, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(bytes.Repeat([]byte{1}, recordHeaderSize+5000)) // the torn tail
	f.Close()

	if r, err = Open(ctx, dir); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, b := range kept {
		if err := r.Pins.PinWithMode(ctx, b.Cid(), pin.Recursive, ""); err != nil {
			t.Fatal(err)
		}
	}
	before := diskUsage(t, pack)
	if _, err := r.GC(ctx); err != nil {
		t.Fatal(err)
	}
	want := 2 * at.recordLen()
	if after := diskUsage(t, pack); after > want {
		t.Errorf("the pack holds %d bytes on disk after gc (%d before), want at most its two named records' %d", after, before, want)
	}
	fd, err := unix.Open(pack, unix.O_RDONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if next, err := unix.Seek(fd, at.offset, unix.SEEK_DATA); err != nil || next < at.offset+at.recordLen() {
		t.Errorf("data at %d (%v) in the orphaned record's range [%d, %d), want a hole", next, err, at.offset, at.offset+at.recordLen())
	}
	checkBlocks(t, r, kept)
}

// A gateway's reads store blocks while gc runs. A record indexed after the
// sweep looked at the index, in a pack no longer appended to, must stay:
// punched out of a pack other records name, or removed with a pack
// nothing else names.
func TestSweepSparesARecordIndexedMeanwhile(t *testing.T) {
	for _, alone := range []bool{false, true} {
		t.Run(map[bool]string{false: "sharing a pack", true: "alone in its pack"}[alone], func(t *testing.T) {
			ctx := context.Background()
			r := openTestRepo(t)
			named := randomBlock(t, 1<<20)
			if err := r.Blocks.Put(ctx, named); err != nil {
				t.Fatal(err)
			}
			if err := r.Pins.PinWithMode(ctx, named.Cid(), pin.Recursive, ""); err != nil {
				t.Fatal(err)
			}
			if alone {
				namedAt, _ := r.packs.locate(ctx, named.Cid())
				r.packs.abandon(namedAt.pack)
			}
			// A put stopped between its write and its entry, in a pack
			// that then stops taking records.
			late := randomBlock(t, 1<<20)
			loc, err := r.packs.reserve(len(late.RawData()))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.packs.writeRecord(loc, late.Cid(), late.RawData()); err != nil {
				t.Fatal(err)
			}
			r.packs.abandon(loc.pack)
			afterSweepScan = func() {
				if err := r.packs.index.Put(ctx, dshelp.MultihashToDsKey(late.Cid().Hash()), loc.encode()); err != nil {
					t.Error(err)
				}
				r.packs.written(loc.pack)
			}
			defer func() { afterSweepScan = func() {} }()
			if _, err := r.GC(ctx); err != nil {
				t.Fatal(err)
			}
			checkBlocks(t, r, []blocks.Block{named, late})
		})
	}
}

// skipWithoutHolePunching skips a test where the filesystem of dir gives
// no space back for a punched hole.
func skipWithoutHolePunching(t *testing.T, dir string) {
	t.Helper()
	name := dir + "/punch-probe"
	if err := os.WriteFile(name, bytes.Repeat([]byte{1}, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(name)
	before := diskUsage(t, name)
	if err := punchHoles(name, []span{{0, 1 << 20}}); err != nil || diskUsage(t, name) >= before {
		t.Skipf("the filesystem of %s does not give back a punched hole's space (%v)", dir, err)
	}
}
