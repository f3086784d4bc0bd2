package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// TestHarnessDocker checks the test images and dockerd without imgp2p: if
// this fails, the e2e failures below it are not imgp2p's fault.
func TestHarnessDocker(t *testing.T) {
	needDocker(t)
	layout := helloLayout(t)
	tar := filepath.Join(t.TempDir(), "hello.tar")
	tag := "imgp2p-e2e/harness:v1"
	if err := testimage.WriteDockerArchive(tar, layout, tag); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(tar)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	removeImageOnCleanup(t, tag)
	if got := loadedImage(t, docker(t, f, "load")); got != tag {
		t.Errorf("docker load reported %q, want %q", got, tag)
	}
	if got, want := imageID(t, tag), digests(t, layout).Config.String(); got != want {
		t.Errorf("image ID %s, want config digest %s", got, want)
	}
	out := docker(t, nil, "run", "--rm", "--network", "none", tag).stdout
	if string(out) != testimage.HelloLine+"\n" {
		t.Errorf("docker run printed %q, want %q", out, testimage.HelloLine+"\n")
	}
}
