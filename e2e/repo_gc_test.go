package e2e

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// gcLine is gc's whole stdout.
var gcLine = regexp.MustCompile(`^removed (\d+) blocks \(([0-9.]+ [KMGT]?i?B)\)\n$`)

// gc runs `imgp2p gc` and returns how many blocks it says it removed,
// failing the test unless it succeeds with exactly the one result line.
func (r *repo) gc() int {
	r.t.Helper()
	res := r.ok("gc")
	m := gcLine.FindSubmatch(res.stdout)
	if m == nil {
		r.t.Fatalf("gc stdout is not one `removed N blocks (SIZE)` line: %v", res)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// diskUsage is what du reports for dir: allocated blocks, not apparent
// sizes. badger preallocates and maps its files, so apparent sizes say
// little about the space a repo takes. Files vanishing during the walk (a
// running daemon rotating its value log) are skipped.
func diskUsage(t testing.TB, dir string) int64 {
	t.Helper()
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		total += st.Blocks * 512
		return nil
	})
	if err != nil {
		t.Fatalf("du %s: %v", dir, err)
	}
	return total
}

// blobBytes is the total size of the blobs of the layout at dir: what a
// repo must hold, at least, to hold the image.
func blobBytes(t testing.TB, dir string) int64 {
	t.Helper()
	var total int64
	entries, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	return total
}

// listed is the set of CIDs `imgp2p ls -q` prints, sorted.
func (r *repo) listed() []string {
	r.t.Helper()
	return sortedLines(r.ok("ls", "-q").stdout)
}

// pinned is the set of roots `imgp2p pin ls` prints, sorted.
func (r *repo) pinned() []string {
	r.t.Helper()
	return sortedLines(r.ok("pin", "ls").stdout)
}

func sortedLines(b []byte) []string {
	lines := trimmedLines(b)
	slices.Sort(lines)
	return lines
}

func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// wantReclaimed checks that du of the repo dropped by at least 3/4 of size
// between before and after: gc must give the space back, not only forget
// the blocks.
func wantReclaimed(t testing.TB, what string, before, after, size int64) {
	t.Helper()
	t.Logf("%s: repo du %.1f MiB before gc, %.1f MiB after; image %.1f MiB", what, mib(before), mib(after), mib(size))
	if before < size {
		t.Fatalf("%s: repo takes %d bytes before gc, less than the image's %d: du is not measuring the repo", what, before, size)
	}
	if before-after < size*3/4 {
		t.Errorf("%s: gc freed %.1f MiB of disk (du %.1f → %.1f MiB), want at least 3/4 of the %.1f MiB image",
			what, mib(before-after), mib(before), mib(after), mib(size))
	}
}

// TestGCReclaimsUnpinned: a pushed image, once unpinned, is collected: gc
// reports its blocks, the disk space really comes back (badger's value
// log is rewritten, not just marked) while a pinned image stored next to
// it stays, ls forgets the collected one, and a second gc finds nothing
// left to do.
func TestGCReclaimsUnpinned(t *testing.T) {
	r := newRepo(t)
	layout := randomLayout(t, 64, 601)
	size := blobBytes(t, layout)
	cid := r.push(layout)
	keep := r.push(helloLayout(t))
	before := diskUsage(t, r.dir)

	r.ok("pin", "rm", cid)
	if got := r.pinned(); !slices.Equal(got, []string{keep}) {
		t.Errorf("pin ls after pin rm: %v, want [%s]", got, keep)
	}
	if n := r.gc(); n < 64 {
		t.Errorf("gc removed %d blocks; the 64 MiB layer alone is 64 blocks of 1 MiB", n)
	}
	wantReclaimed(t, "standalone", before, diskUsage(t, r.dir), size)
	if got := r.listed(); !slices.Equal(got, []string{keep}) {
		t.Errorf("ls -q after gc = %v, want only the pinned %s", got, keep)
	}
	r.ok("verify", keep)
	res := r.fails("pull", "--offline", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
	if !strings.Contains(string(res.stderr), cid) {
		t.Errorf("pull of the collected image: error does not name %s: %v", cid, res)
	}
	if res := r.ok("gc"); string(res.stdout) != "removed 0 blocks (0 B)\n" {
		t.Errorf("a second gc should find nothing: %v", res)
	}
}

// TestGCKeepsPinned: gc removes what no pin keeps and nothing else. The
// kept images include one sharing every blob with a collected image (the
// same hello image under another name), so marking must follow shared
// blocks; what survives still verifies and pulls byte for byte.
func TestGCKeepsPinned(t *testing.T) {
	r := newRepo(t)
	keep, drop := randomLayout(t, 8, 602), randomLayout(t, 8, 603)
	hello, helloCopy := helloLayout(t), helloLayout(t)
	nameLayout(t, helloCopy, "imgp2p-test/hello-copy:v1")

	keepCID, dropCID := r.push(keep), r.push(drop)
	helloCID, copyCID := r.push(hello), r.push(helloCopy)
	if helloCID == copyCID {
		t.Fatalf("renaming the hello layout did not change its root %s", helloCID)
	}
	r.ok("pin", "rm", dropCID)
	r.ok("pin", "rm", copyCID)

	if n := r.gc(); n < 8 {
		t.Errorf("gc removed %d blocks; the unpinned 8 MiB layer alone is 8", n)
	}
	if got, want := r.listed(), sorted(keepCID, helloCID); !slices.Equal(got, want) {
		t.Errorf("ls -q after gc = %v, want the pinned %v", got, want)
	}
	if got, want := r.pinned(), sorted(keepCID, helloCID); !slices.Equal(got, want) {
		t.Errorf("pin ls after gc = %v, want %v", got, want)
	}
	if res := r.ok("verify"); !bytes.Contains(res.stderr, []byte(" 0 problems")) || len(res.stdout) != 0 {
		t.Errorf("verify after gc should find 0 problems: %v", res)
	}
	for _, c := range []struct{ cid, layout string }{{keepCID, keep}, {helloCID, hello}} {
		r.ok("verify", c.cid)
		out := filepath.Join(t.TempDir(), "layout")
		r.ok("pull", "--offline", "--format", "oci", "-o", out, c.cid)
		sameLayout(t, out, c.layout)
	}
	for _, gone := range []string{dropCID, copyCID} {
		r.fails("pull", "--offline", "-o", filepath.Join(t.TempDir(), "img.tar"), gone)
	}
}

// TestGCCollectsPulled: an image pulled from a peer is cached, not pinned;
// gc takes it and its space.
func TestGCCollectsPulled(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	layout := randomLayout(t, 16, 604)
	size := blobBytes(t, layout)
	cid := a.push(layout)

	b := newRepo(t)
	b.ok("pull", "--peer", da.Addr, "--timeout", "2m", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
	if got := b.listed(); !slices.Equal(got, []string{cid}) {
		t.Fatalf("ls -q after the pull = %v, want [%s]", got, cid)
	}
	if got := b.pinned(); len(got) != 0 {
		t.Errorf("a pull pinned %v; pulled images are cached, not pinned", got)
	}
	before := diskUsage(t, b.dir)
	res := b.ok("gc")
	if m := gcLine.FindSubmatch(res.stdout); m == nil {
		t.Errorf("gc stdout is not one `removed N blocks (SIZE)` line: %v", res)
	} else if n, _ := strconv.Atoi(string(m[1])); n < 16 {
		t.Errorf("gc removed %d blocks; the 16 MiB layer alone is 16", n)
	}
	// Which image went, said as what gc did, not as an error.
	if want := "collected image " + cid + " (not pinned)\n"; string(res.stderr) != want {
		t.Errorf("gc stderr %q, want %q", res.stderr, want)
	}
	wantReclaimed(t, "pulled", before, diskUsage(t, b.dir), size)
	if got := b.listed(); len(got) != 0 {
		t.Errorf("ls -q after gc still lists %v", got)
	}
	b.fails("pull", "--offline", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
	// A still has it, pinned: B's gc is B's business.
	a.ok("verify", cid)
}

// TestGCThroughDaemon: with a daemon owning the repo, pin rm and gc go
// through it and the disk space comes back while it runs. As in
// TestGCReclaimsUnpinned, a pinned image is stored after the collected one
// (here in the daemon's current value-log file, beside it): gc must keep
// it and still give the collected image's space back.
func TestGCThroughDaemon(t *testing.T) {
	r := newRepo(t)
	d := r.startDaemon("--mdns=false")
	layout := randomLayout(t, 64, 605)
	size := blobBytes(t, layout)
	cid := r.push(layout)
	keep := r.push(helloLayout(t))
	before := diskUsage(t, r.dir)

	r.ok("pin", "rm", cid)
	if n := r.gc(); n < 64 {
		t.Errorf("gc through the daemon removed %d blocks; the 64 MiB layer alone is 64", n)
	}
	wantReclaimed(t, "through the daemon", before, diskUsage(t, r.dir), size)
	if got := r.listed(); !slices.Equal(got, []string{keep}) {
		t.Errorf("ls -q after gc = %v, want only the pinned %s", got, keep)
	}
	r.ok("verify", keep)
	r.fails("pull", "--offline", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)

	// The daemon is still healthy, and the repo opens cleanly after it.
	d.stop(t)
	t.Logf("repo du with the daemon stopped: %.1f MiB", mib(diskUsage(t, r.dir)))
	if got := r.listed(); !slices.Equal(got, []string{keep}) {
		t.Errorf("ls -q with the daemon stopped = %v, want [%s]", got, keep)
	}
	r.ok("verify")
}
