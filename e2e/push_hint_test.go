package e2e

import (
	"bytes"
	"testing"
)

// TestPushOfAnImageNameSaysHow: docker, crane and skopeo users write
// `push app:v1` or `push registry.example/app:v1`, which imgp2p reads as a
// path, and got only "no such file or directory". The error now says how
// to push an image from a registry or from docker; a missing file that is
// no image reference gets no such advice.
func TestPushOfAnImageNameSaysHow(t *testing.T) {
	r := newRepo(t)
	for _, ref := range []string{"app:v1", "registry.example/app:v1"} {
		res := r.fails("push", ref)
		for _, want := range []string{"no such file or directory", "docker://" + ref, "docker save " + ref + " | imgp2p push -"} {
			if !bytes.Contains(res.stderr, []byte(want)) {
				t.Errorf("push %s: %v\nwant %q", ref, res, want)
			}
		}
		if len(res.stdout) != 0 {
			t.Errorf("push %s wrote %q on stdout", ref, res.stdout)
		}
	}
	if res := r.fails("push", "missing.tar"); bytes.Contains(res.stderr, []byte("docker://")) {
		t.Errorf("push missing.tar: %v\nwant no registry advice for a file name", res)
	}
}
