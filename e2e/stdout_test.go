package e2e

import (
	"bytes"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// TestStdoutHygiene: stdout carries only the product (a CID, a tar, JSON),
// so it can be piped; progress and summaries go to stderr.
func TestStdoutHygiene(t *testing.T) {
	r := newRepo(t)
	layout := helloLayout(t)
	cid := r.push(layout) // push asserts stdout is exactly one CID line
	dir := t.TempDir()

	toFile := filepath.Join(dir, "file.tar")
	res := r.ok("pull", "-o", toFile, cid)
	if len(res.stdout) != 0 {
		t.Errorf("pull -o wrote %d bytes to stdout", len(res.stdout))
	}
	if len(bytes.TrimSpace(res.stderr)) == 0 {
		t.Errorf("pull -o printed no summary on stderr")
	}
	res = r.ok("pull", cid)
	if !bytes.Equal(res.stdout, readFile(t, toFile)) {
		t.Errorf("pull to stdout (%d bytes) differs from pull -o (%d bytes)", len(res.stdout), len(readFile(t, toFile)))
	}
	img, err := tarball.ImageFromPath(toFile, nil)
	if err != nil {
		t.Fatalf("default pull output is not a docker-archive: %v", err)
	}
	if id, _ := img.ConfigName(); id != digests(t, layout).Config {
		t.Errorf("docker-archive config %s, want %s", id, digests(t, layout).Config)
	}

	// oci-archive is a tar of the layout: unpacked, it is the source again.
	ociTar := filepath.Join(dir, "oci.tar")
	if res := r.ok("pull", "--format", "oci-archive", "-o", ociTar, cid); len(res.stdout) != 0 {
		t.Errorf("pull --format oci-archive -o wrote to stdout")
	}
	unpacked := filepath.Join(dir, "unpacked")
	untar(t, ociTar, unpacked)
	sameLayout(t, unpacked, layout)

	if res := r.ok("version"); len(bytes.TrimSpace(res.stdout)) == 0 {
		t.Errorf("version printed nothing on stdout")
	}
	if info, res := r.id(); res.code != 0 || info.ID == "" {
		t.Errorf("id without a daemon: %+v, %v", info, res)
	}
	ls := r.ok("ls").stdout
	for _, want := range []string{cid, testimage.HelloRef, "linux/" + runtime.GOARCH} {
		if !bytes.Contains(ls, []byte(want)) {
			t.Errorf("ls output lacks %q:\n%s", want, ls)
		}
	}
}
