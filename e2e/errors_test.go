package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// emptyDir fails the test if dir holds anything: a failed pull must leave
// neither its output nor a temp file next to it.
func emptyDir(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("failed command left %s in %s", e.Name(), dir)
	}
}

// failedPullLeavesNothing runs a pull that must fail in every output form
// and checks no output of any kind survives. It returns the first failure.
func (r *repo) failedPullLeavesNothing(args ...string) result {
	r.t.Helper()
	out := r.t.TempDir()
	first := r.fails(append([]string{"pull", "-o", filepath.Join(out, "img.tar")}, args...)...)
	r.fails(append([]string{"pull", "--format", "oci", "-o", filepath.Join(out, "layout")}, args...)...)
	r.fails(append([]string{"pull", "--format", "oci-archive", "-o", filepath.Join(out, "oci.tar")}, args...)...)
	emptyDir(r.t, out)
	if res := r.fails(append([]string{"pull"}, args...)...); len(res.stdout) != 0 {
		r.t.Errorf("failed pull wrote %d bytes to stdout", len(res.stdout))
	}
	return first
}

// TestPushCorruptBlob: a layer whose bytes do not match its digest is
// refused, the message names it, and nothing of the image is kept.
func TestPushCorruptBlob(t *testing.T) {
	r := newRepo(t)
	layout := helloLayout(t)
	bad := digests(t, layout).Layers[0]
	if err := testimage.CorruptBlob(layout, bad); err != nil {
		t.Fatal(err)
	}
	res := r.fails("push", layout)
	if !bytes.Contains(res.stderr, []byte(bad.Hex)) {
		t.Errorf("error does not name the corrupt blob %s: %v", bad, res)
	}
	if len(res.stdout) != 0 {
		t.Errorf("failed push printed on stdout: %q", res.stdout)
	}
	if ls := r.ok("ls"); anyCID.Match(ls.stdout) {
		t.Errorf("ls lists an image after a failed push:\n%s", ls.stdout)
	}
	// The failure must not wedge the repo.
	r.push(helloLayout(t))
}

// TestPullNotAnImage: a CID the repo holds that is not an OCI layout (here
// the image's config blob, one raw block) is refused, offline or not.
func TestPullNotAnImage(t *testing.T) {
	r := newRepo(t)
	layout := helloLayout(t)
	r.push(layout)
	cid := rawCID(digests(t, layout).Config)
	res := r.failedPullLeavesNothing("--offline", cid)
	if !bytes.Contains(res.stderr, []byte(cid)) {
		t.Errorf("error does not name the CID %s: %v", cid, res)
	}
}

// TestPullUnknownOffline: --offline with a CID nobody has fails at once.
func TestPullUnknownOffline(t *testing.T) {
	r := newRepo(t)
	cid := unknownCID()
	res := r.failedPullLeavesNothing("--offline", cid)
	if res.elapsed > 15*time.Second {
		t.Errorf("offline pull of a missing CID took %v", res.elapsed)
	}
	if !bytes.Contains(res.stderr, []byte(cid)) {
		t.Errorf("error does not name the CID %s: %v", cid, res)
	}
}

// TestPullTimeout: online, with no peer holding the CID, --timeout bounds
// the wait. The test namespace has no route out, so nothing leaves the host.
func TestPullTimeout(t *testing.T) {
	r := newRepo(t)
	out := t.TempDir()
	res := r.fails("pull", "--timeout", "3s", "-o", filepath.Join(out, "img.tar"), unknownCID())
	if res.elapsed > 45*time.Second {
		t.Errorf("pull --timeout 3s took %v", res.elapsed)
	}
	emptyDir(t, out)
}

// TestCIDForms: ipfs://CID and /ipfs/CID name the same image as CID.
func TestCIDForms(t *testing.T) {
	r := newRepo(t)
	cid := r.push(helloLayout(t))
	dir := t.TempDir()
	var want []byte
	for i, arg := range []string{cid, "ipfs://" + cid, "/ipfs/" + cid} {
		out := filepath.Join(dir, string(rune('a'+i))+".tar")
		r.ok("pull", "--offline", "-o", out, arg)
		got := readFile(t, out)
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Errorf("pull %s differs from pull %s", arg, cid)
		}
	}
}
