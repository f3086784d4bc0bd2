package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

var skopeoReady = sync.OnceValue(func() error {
	if msg, err := exec.Command("skopeo", "--version").CombinedOutput(); err != nil {
		return fmt.Errorf("skopeo --version: %v: %s", err, msg)
	}
	return nil
})

// skopeo runs skopeo (local transports only) and fails the test unless it
// exits 0.
func skopeo(t *testing.T, args ...string) result {
	t.Helper()
	need(t, "skopeo", skopeoReady())
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	res := execute(exec.CommandContext(ctx, "skopeo", args...), nil)
	if res.code != 0 {
		t.Fatalf("skopeo failed: %v", res)
	}
	return res
}

// inspectDigest is the manifest digest skopeo reports for an image ref.
func inspectDigest(t *testing.T, ref string) string {
	t.Helper()
	var out struct{ Digest string }
	res := skopeo(t, "inspect", ref)
	if err := json.Unmarshal(res.stdout, &out); err != nil {
		t.Fatalf("skopeo inspect %s: %v\n%s", ref, err, res.stdout)
	}
	return out.Digest
}

// TestSkopeoInterop: a layout written by containers/image (short ref.name,
// index.json without mediaType) goes in, and every output format comes out
// readable by containers/image with the manifest digest unchanged.
func TestSkopeoInterop(t *testing.T) {
	r := newRepo(t)
	tmp := t.TempDir()
	src := filepath.Join(tmp, "skopeo-layout")
	skopeo(t, "copy", "oci:"+helloLayout(t)+":"+testimage.HelloRef, "oci:"+src+":v1")
	want := digests(t, src).Manifest.String()

	cid := r.push(src)
	out := filepath.Join(tmp, "out")
	r.ok("pull", "--format", "oci", "-o", out, cid)
	sameLayout(t, out, src)
	if got := inspectDigest(t, "oci:"+out); got != want {
		t.Errorf("skopeo reads the pulled layout as %s, want %s", got, want)
	}
	archive := filepath.Join(tmp, "oci.tar")
	r.ok("pull", "--format", "oci-archive", "-o", archive, cid)
	if got := inspectDigest(t, "oci-archive:"+archive); got != want {
		t.Errorf("skopeo reads the pulled oci-archive as %s, want %s", got, want)
	}
	// A docker-archive holds no manifest of its own, so only check it reads.
	tar := filepath.Join(tmp, "docker.tar")
	r.ok("pull", "-o", tar, cid)
	skopeo(t, "inspect", "docker-archive:"+tar)
}
