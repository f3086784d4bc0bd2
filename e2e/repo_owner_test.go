package e2e

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestRepoOfAnotherUser: root running a command on a user's repo (sudo
// imgp2p push) is refused with one line naming the owner, and leaves no
// file of its own in the repo: root's badger tables, 0644 and root's,
// used to stop the repo opening for its owner.
func TestRepoOfAnotherUser(t *testing.T) {
	nobody := nobodyUser(t)
	base := reachableDir(t)
	home := filepath.Join(base, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, nobody.uid, nobody.gid); err != nil {
		t.Fatal(err)
	}
	imgp2p := copyExecutable(t, binPath, base, "imgp2p")
	r := newRepo(t)
	r.dir = filepath.Join(home, "repo")
	if res := nobody.run(t, imgp2p, "--repo", r.dir, "ls"); res.code != 0 {
		t.Fatalf("nobody creating a repo: %v", res)
	}

	for _, args := range [][]string{{"push", helloLayout(t)}, {"gc"}, {"ls"}} {
		res := r.fails(args...)
		msg := bytes.TrimSpace(res.stderr)
		if bytes.Contains(msg, []byte("\n")) || !bytes.Contains(msg, []byte(r.dir)) || !bytes.Contains(msg, []byte("uid "+strconv.Itoa(nobody.uid))) {
			t.Errorf("want one line naming %s and its owner uid %d: %v", r.dir, nobody.uid, res)
		}
	}
	filepath.WalkDir(r.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err == nil && int(st.Uid) != nobody.uid {
			t.Errorf("%s belongs to uid %d now, not to the repo's owner %d", path, st.Uid, nobody.uid)
		}
		return nil
	})
	if res := nobody.run(t, imgp2p, "--repo", r.dir, "ls"); res.code != 0 {
		t.Errorf("the owner's ls after root's attempts: %v", res)
	}
}
