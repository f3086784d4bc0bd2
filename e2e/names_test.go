package e2e

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// pullTo runs `imgp2p pull --offline -o FILE args...` and returns the file's bytes.
func (r *repo) pullTo(args ...string) []byte {
	r.t.Helper()
	out := filepath.Join(r.t.TempDir(), "img.tar")
	r.ok(append([]string{"pull", "--offline", "-o", out}, args...)...)
	return readFile(r.t, out)
}

// TestNamesPull: an image's local name (its ref.name annotation) works
// wherever pull takes a CID, alone and through a daemon; a name without a
// tag means :latest; an unknown name is an error pointing at ls.
func TestNamesPull(t *testing.T) {
	r := newRepo(t)
	hello := helloLayout(t)
	cid := r.push(hello)
	app := randomLayout(t, 1, 801)
	nameLayout(t, app, "imgp2p-test/app:latest")
	appCID := r.push(app)

	byCID := r.pullTo(cid)
	if got := r.pullTo(testimage.HelloRef); !bytes.Equal(got, byCID) {
		t.Errorf("pull %s differs from pull %s", testimage.HelloRef, cid)
	}
	layoutDir := filepath.Join(t.TempDir(), "layout")
	r.ok("pull", "--offline", "--format", "oci", "-o", layoutDir, testimage.HelloRef)
	sameLayout(t, layoutDir, hello)

	appByCID := r.pullTo(appCID)
	for _, name := range []string{"imgp2p-test/app", "imgp2p-test/app:latest"} {
		if got := r.pullTo(name); !bytes.Equal(got, appByCID) {
			t.Errorf("pull %s differs from pull %s", name, appCID)
		}
	}

	out := t.TempDir()
	for _, name := range []string{
		"imgp2p-test/hello",      // :latest, and hello is only :v1
		"imgp2p-test/nothing:v1", // no such image at all
	} {
		res := r.fails("pull", "-o", filepath.Join(out, "img.tar"), name)
		if !strings.Contains(string(res.stderr), name) || !strings.Contains(string(res.stderr), "imgp2p ls") {
			t.Errorf("pull of unknown name %s: the error should name it and point at `imgp2p ls`: %v", name, res)
		}
	}
	emptyDir(t, out)

	// The daemon resolves names the same way.
	r.startDaemon("--mdns=false")
	if got := r.pullTo(testimage.HelloRef); !bytes.Equal(got, byCID) {
		t.Errorf("pull %s through the daemon differs from pull %s", testimage.HelloRef, cid)
	}
	if got := r.pullTo("imgp2p-test/app"); !bytes.Equal(got, appByCID) {
		t.Errorf("pull imgp2p-test/app through the daemon differs from pull %s", appCID)
	}
	if res := r.fails("pull", "-o", filepath.Join(out, "img.tar"), "imgp2p-test/nothing:v1"); !strings.Contains(string(res.stderr), "imgp2p ls") {
		t.Errorf("pull of an unknown name through the daemon should point at `imgp2p ls`: %v", res)
	}
	emptyDir(t, out)
}

// TestNamesMoveToTheNewest: a second image pushed under a name takes it,
// as a docker tag moves to the image built last; the first keeps its CID,
// its pin and its bytes, and a push again of it takes the name back.
func TestNamesMoveToTheNewest(t *testing.T) {
	r := newRepo(t)
	first := r.push(helloLayout(t))
	firstTar := r.pullTo(first)
	other := randomLayout(t, 1, 802)
	nameLayout(t, other, testimage.HelloRef)
	second := r.push(other)
	if first == second {
		t.Fatalf("two different images gave one CID %s", first)
	}
	ls := r.ok("ls").stdout
	if n := bytes.Count(ls, []byte(testimage.HelloRef)); n != 1 {
		t.Errorf("ls shows the name %s %d times, want once:\n%s", testimage.HelloRef, n, ls)
	}
	if !bytes.Contains(ls, []byte(first)) {
		t.Errorf("ls no longer lists %s, which lost its name:\n%s", first, ls)
	}
	secondTar := r.pullTo(second)
	if got := r.pullTo(testimage.HelloRef); !bytes.Equal(got, secondTar) {
		t.Errorf("pull %s should be %s, pushed last", testimage.HelloRef, second)
	}
	r.gc()
	if got := r.pullTo(first); !bytes.Equal(got, firstTar) {
		t.Errorf("%s, which lost its name, changed or was collected", first)
	}
	if again := r.push(helloLayout(t)); again != first {
		t.Fatalf("hello pushed again gave %s, want %s", again, first)
	}
	if got := r.pullTo(testimage.HelloRef); !bytes.Equal(got, firstTar) {
		t.Errorf("after pushing %s again, pull %s should be it", first, testimage.HelloRef)
	}
}

// TestNamesCopy: copy takes a local name as its source.
func TestNamesCopy(t *testing.T) {
	reg := startRegistry(t)
	dir := helloLayout(t)
	top := topDescriptor(t, dir)
	r := newRepo(t)
	r.push(dir)
	repoName := reg.Host + "/named"
	res := r.ok("copy", testimage.HelloRef, "docker://"+repoName+":v1")
	if got, want := string(res.stdout), repoName+"@"+top.Digest.String()+"\n"; got != want {
		t.Errorf("copy %s printed %q, want %q", testimage.HelloRef, got, want)
	}
	if got := strings.TrimSpace(string(reg.crane(t, "digest", repoName+":v1"))); got != top.Digest.String() {
		t.Errorf("crane digest after copy by name = %s, want %s", got, top.Digest)
	}
	res = r.fails("copy", "imgp2p-test/nothing:v1", "docker://"+repoName+":v2")
	if !strings.Contains(string(res.stderr), "imgp2p ls") {
		t.Errorf("copy of an unknown name should point at `imgp2p ls`: %v", res)
	}
}
