package store

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Root opening a directory its user made for a repo (mkdir, then a
// swarm.key put in it) is refused and leaves nothing of its own there:
// a lock file of root's, mode 0600, made the repo unopenable by its
// owner ("open repo lock: permission denied").
func TestAnotherUsersNewRepoGetsNoFileOfOurs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a directory another user owns")
	}
	const owner = 65534 // nobody
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "swarm.key")
	if err := os.WriteFile(key, []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, key} {
		if err := os.Chown(p, owner, owner); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := Open(context.Background(), dir); err == nil {
		r.Close()
		t.Fatal("root opened a repo directory uid 65534 owns")
	}
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Error(err)
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err == nil && st.Uid != owner {
			t.Errorf("%s belongs to uid %d, not to the repo's owner %d", path, st.Uid, owner)
		}
		return nil
	})
}

// A repo made in a directory created for it beforehand (mkdir -p at the
// usual umask, as for a swarm.key) is owner-only once it is a repo, as
// one Open creates is: .github/SECURITY.md's API socket is "mode 0600 in a 0700
// directory".
func TestANewRepoInAPreparedDirectoryIsOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "repo")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil { // whatever the umask
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "swarm.key"), []byte("key"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("the repo directory is mode %v, want 0700", perm)
	}
}
