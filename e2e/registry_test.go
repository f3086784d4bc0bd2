package e2e

import (
	"bytes"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// fixtures are the images the registry tests move: a plain image and a
// multi-platform index.
var registryFixtures = []struct {
	name   string
	layout func(testing.TB) string
}{
	{"hello", helloLayout},
	{"multi", multiLayout},
}

var arm64 = v1.Platform{OS: "linux", Architecture: "arm64"}

// An image pushed from a registry is the same root, to the CID, as its
// layout named by the same reference: manifests and blobs arrive unchanged.
func TestRegistryPushMatchesLayout(t *testing.T) {
	reg := startRegistry(t)
	for _, f := range registryFixtures {
		t.Run(f.name, func(t *testing.T) {
			ref := reg.Host + "/" + f.name + ":v1"
			dir := f.layout(t)
			nameLayout(t, dir, ref)
			reg.crane(t, "push", dir, ref)
			want := newRepo(t).push(dir)
			if got := newRepo(t).push("docker://" + ref); got != want {
				t.Errorf("push docker://%s gave %s; the layout gives %s", ref, got, want)
			}
			if f.name != "multi" {
				return
			}
			want = newRepo(t).push("--platform", "linux/arm64", dir)
			if got := newRepo(t).push("--platform", "linux/arm64", "docker://"+ref); got != want {
				t.Errorf("push --platform linux/arm64 docker://%s gave %s; the layout gives %s", ref, got, want)
			}
		})
	}
}

// Through a daemon, the daemon fetches from the registry itself.
func TestRegistryPushThroughDaemon(t *testing.T) {
	reg := startRegistry(t)
	ref := reg.Host + "/hello:v1"
	dir := helloLayout(t)
	nameLayout(t, dir, ref)
	reg.crane(t, "push", dir, ref)
	want := newRepo(t).push(dir)
	r := newRepo(t)
	r.startDaemon()
	if got := r.push("docker://" + ref); got != want {
		t.Errorf("push docker://%s through the daemon gave %s; the layout gives %s", ref, got, want)
	}
	if ls := r.ok("ls", "-q"); string(ls.stdout) != want+"\n" {
		t.Errorf("ls -q after the push: %q", ls.stdout)
	}
}

// copy puts an image in a registry under the digests its layout has, and
// pushing it back gives the root it came from.
func TestRegistryCopyKeepsDigests(t *testing.T) {
	reg := startRegistry(t)
	for _, f := range registryFixtures {
		t.Run(f.name, func(t *testing.T) {
			repoName := reg.Host + "/copy-" + f.name
			ref := repoName + ":v1"
			dir := f.layout(t)
			top := nameLayout(t, dir, ref)
			r := newRepo(t)
			cid := r.push(dir)
			res := r.ok("copy", cid, "docker://"+ref)
			if got, want := string(res.stdout), repoName+"@"+top.Digest.String()+"\n"; got != want {
				t.Errorf("copy printed %q, want %q", got, want)
			}
			if got := strings.TrimSpace(string(reg.crane(t, "digest", ref))); got != top.Digest.String() {
				t.Errorf("crane digest %s = %s, want the layout's %s", ref, got, top.Digest)
			}
			if got := reg.crane(t, "manifest", ref); !bytes.Equal(got, readFile(t, testimage.BlobPath(dir, top.Digest))) {
				t.Errorf("crane manifest %s differs from the layout's blob %s", ref, top.Digest)
			}
			if back := newRepo(t).push("docker://" + ref); back != cid {
				t.Errorf("copy then push docker://%s gave %s, want %s", ref, back, cid)
			}
			if f.name != "multi" {
				return
			}
			armRef := repoName + ":arm64"
			r.ok("copy", "--platform", "linux/arm64", cid, "docker://"+armRef)
			want := platformManifest(t, dir, top.Digest, arm64)
			if got := strings.TrimSpace(string(reg.crane(t, "digest", armRef))); got != want.String() {
				t.Errorf("crane digest %s = %s, want the arm64 manifest %s", armRef, got, want)
			}
		})
	}
}

// copy goes through a daemon, and fetches what the repo lacks from peers.
func TestRegistryCopyThroughDaemonAndFromPeer(t *testing.T) {
	reg := startRegistry(t)
	dir := multiLayout(t)
	top := topDescriptor(t, dir)
	a := newRepo(t)
	cid := a.push(dir)
	d := a.startDaemon()
	a.ok("copy", "ipfs://"+cid, "docker://"+reg.Host+"/from-daemon:v1")
	b := newRepo(t)
	b.ok("copy", "--peer", d.Addr, "--timeout", "2m", "/ipfs/"+cid, "docker://"+reg.Host+"/from-peer:v1")
	for _, ref := range []string{reg.Host + "/from-daemon:v1", reg.Host + "/from-peer:v1"} {
		if got := strings.TrimSpace(string(reg.crane(t, "digest", ref))); got != top.Digest.String() {
			t.Errorf("crane digest %s = %s, want %s", ref, got, top.Digest)
		}
	}
}

func TestRegistryErrors(t *testing.T) {
	reg := startRegistry(t)
	dir := helloLayout(t)
	reg.crane(t, "push", dir, reg.Host+"/hello:v1")
	r := newRepo(t)
	cid := r.push(dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"push", "docker://127.0.0.1:1/hello:v1"}, "cannot reach registry 127.0.0.1:1"},
		{[]string{"push", "docker://" + reg.Host + "/hello:nope"}, "not found in the registry"},
		{[]string{"push", "docker://" + reg.Host + "/nothing:v1"}, "not found in the registry"},
		{[]string{"copy", cid, "docker://127.0.0.1:1/hello:v1"}, "cannot reach registry 127.0.0.1:1"},
		{[]string{"copy", cid, reg.Host + "/hello:v2"}, "must be docker://"},
		{[]string{"copy", cid, "docker://" + reg.Host + "/Bad//Name:v1"}, "invalid registry reference"},
	} {
		res := r.fails(c.args...)
		if !strings.Contains(string(res.stderr), c.want) {
			t.Errorf("want %q on stderr: %v", c.want, res)
		}
	}
	// A failed push leaves nothing listed.
	if ls := r.ok("ls", "-q"); string(ls.stdout) != cid+"\n" {
		t.Errorf("ls -q after failed pushes: %q, want only %s", ls.stdout, cid)
	}
}
