package e2e

import (
	"strings"
	"testing"
	"time"
)

// copy says what is wrong with its destination at once, not after
// waiting --timeout for an image no peer has; and HOST:PORT without a
// repository, which Docker's grammar reads as a Docker Hub repository, is
// refused rather than dialed (the namespace has no route out, so a dial
// would fail with "cannot reach registry index.docker.io").
func TestRegistryCopyChecksDestinationFirst(t *testing.T) {
	cid := newRepo(t).push(helloLayout(t))
	r := newRepo(t) // lacks the image; no peer has it
	for _, c := range []struct{ dest, want string }{
		{"docker://127.0.0.1:5000", "names a registry but no repository"},
		{"docker://localhost:5000", "write localhost:5000/REPO:TAG"},
		{"docker://127.0.0.1:5000/Bad//Name:v1", "invalid registry reference"},
	} {
		res := r.fails("copy", "--timeout", "1m", cid, c.dest)
		if !strings.Contains(string(res.stderr), c.want) || strings.Contains(string(res.stderr), "index.docker.io") {
			t.Errorf("copy to %s: want %q on stderr, and no Docker Hub: %v", c.dest, c.want, res)
		}
		if res.elapsed > 30*time.Second {
			t.Errorf("copy to %s failed only after %s: it waited for the image first", c.dest, res.elapsed)
		}
	}
	res := r.fails("push", "docker://127.0.0.1:5000")
	if !strings.Contains(string(res.stderr), "names a registry but no repository") {
		t.Errorf("push docker://127.0.0.1:5000: %v", res)
	}
}
