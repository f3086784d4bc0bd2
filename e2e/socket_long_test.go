package e2e

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSocketLongRepoPath: a repo whose api.sock path is longer than a
// unix socket address holds (108 bytes on Linux) still gets a daemon that
// commands reach: CI workspaces and kubelet volumes are that deep. The
// daemon used to fail at start with "bind: invalid argument".
func TestSocketLongRepoPath(t *testing.T) {
	r := newRepo(t)
	r.dir = filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60), "repo")
	sock := filepath.Join(r.dir, "api.sock")
	if len(sock) <= 108 {
		t.Fatalf("socket path %s is only %d bytes: not long enough to test", sock, len(sock))
	}
	layout := helloLayout(t)
	want := r.push(layout)
	ref := filepath.Join(t.TempDir(), "ref.tar")
	r.ok("pull", "--offline", "-o", ref, want)

	d := r.startDaemon("--mdns=false")
	if info, res := r.id(); res.code != 0 || info.ID != d.ID || len(info.Addresses) == 0 {
		t.Fatalf("id does not reach the daemon: %+v %v", info, res)
	}
	wantPerm(t, sock, 0o600, true)
	if got := r.push(layout); got != want {
		t.Errorf("push through the daemon gave %s, want %s", got, want)
	}
	// Into a file the daemon writes itself (the descriptor goes over the
	// socket), and streamed back over it into a buffer.
	out := filepath.Join(t.TempDir(), "img.tar")
	r.ok("pull", "-o", out, want)
	if !bytes.Equal(readFile(t, out), readFile(t, ref)) {
		t.Errorf("pull -o through the daemon differs from the offline pull")
	}
	if res := r.ok("pull", want); !bytes.Equal(res.stdout, readFile(t, ref)) {
		t.Errorf("pull to stdout through the daemon differs from the offline pull")
	}
	d.stop(t)
	if _, err := os.Lstat(sock); err == nil {
		t.Errorf("the stopped daemon left %s behind", sock)
	}
	r.ok("ls")
}
