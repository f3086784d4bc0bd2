package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// ctr runs ctr against c and fails the test unless it exits 0.
func (c *containerd) ctr(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	argv := c.argv(args...)
	res := execute(exec.CommandContext(ctx, argv[0], argv[1:]...), nil)
	if res.code != 0 {
		t.Fatalf("ctr failed: %v", res)
	}
	return res
}

// TestPushCtrExportOfOnePlatform: `ctr images export` (as nerdctl save, and
// docker save with the containerd image store) writes a multi-platform
// image's whole index but only the host platform's blobs. Pushing that
// archive as a whole cannot work (a root holds every blob its index names);
// the error says which platforms are there and the --platform that pushes
// one (before: only "blob sha256:… is missing from the archive"), and that
// push round-trips into docker.
func TestPushCtrExportOfOnePlatform(t *testing.T) {
	needDocker(t)
	c := startContainerd(t)
	c.ctr(t, "images", "import", ociArchive(t, multiLayout(t)))
	exported := filepath.Join(t.TempDir(), "ctr-export.tar")
	c.ctr(t, "images", "export", exported, testimage.MultiRef)

	r := newRepo(t)
	host := "linux/" + runtime.GOARCH
	other := "linux/arm64"
	if runtime.GOARCH == "arm64" {
		other = "linux/amd64"
	}
	res := r.fails("push", exported)
	for _, want := range []string{"missing from the archive", "[" + host + "]", "[" + other + "]", "--platform " + host} {
		if !strings.Contains(string(res.stderr), want) {
			t.Errorf("push of a one-platform ctr export: stderr lacks %q:\n%s", want, res.stderr)
		}
	}

	cid := r.push("--platform", host, exported)
	pull, load := r.pipeToDocker("pull", cid)
	if pull.code != 0 || load.code != 0 {
		t.Fatalf("imgp2p pull | docker load:\n%v\n%v", pull, load)
	}
	ref := loadedImage(t, load)
	removeImageOnCleanup(t, ref)
	runHello(t, ref)
}
