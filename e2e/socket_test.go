package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The daemon's API socket from another user's side. Root bypasses file
// modes, so the "other user" is nobody, entered with setpriv (util-linux)
// or runuser; the test itself runs as root and so can always connect,
// which is expected and checked as the control case.

// otherUser is an unprivileged account and how to run a command as it.
type otherUser struct {
	uid, gid int
	wrap     func(argv ...string) []string
}

func nobodyUser(t *testing.T) otherUser {
	t.Helper()
	if os.Getuid() != 0 {
		need(t, "root (to act as another user)", fmt.Errorf("running as uid %d", os.Getuid()))
	}
	u, err := user.Lookup("nobody")
	need(t, "a nobody user", err)
	var o otherUser
	fmt.Sscan(u.Uid, &o.uid)
	fmt.Sscan(u.Gid, &o.gid)
	if p, err := exec.LookPath("setpriv"); err == nil {
		o.wrap = func(argv ...string) []string {
			return append([]string{p, fmt.Sprintf("--reuid=%d", o.uid), fmt.Sprintf("--regid=%d", o.gid), "--clear-groups", "--"}, argv...)
		}
		return o
	}
	p, err := exec.LookPath("runuser")
	need(t, "setpriv or runuser", err)
	o.wrap = func(argv ...string) []string { return append([]string{p, "-u", "nobody", "--"}, argv...) }
	return o
}

// run runs argv as the other user inside the test namespace.
func (o otherUser) run(t *testing.T, argv ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	full := inNetns(o.wrap(argv...)...)
	cmd := exec.CommandContext(ctx, full[0], full[1:]...)
	cmd.Env = childEnv("/nonexistent")
	return execute(cmd, nil)
}

// reachableDir is a temp dir other users can traverse into (but not list):
// t.TempDir's directories are 0700, which alone would keep everyone out
// and leave the repo's own modes untested.
func reachableDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for d := dir; d != filepath.Dir(d) && d != filepath.Clean(os.TempDir()); d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, fi.Mode().Perm()|0o111); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyExecutable copies src to dir/name, mode 0755.
func copyExecutable(t *testing.T, src, dir, name string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(dir, name)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}

func wantPerm(t *testing.T, path string, want os.FileMode, socket bool) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %#o, want %#o", path, got, want)
	}
	if socket && fi.Mode()&os.ModeSocket == 0 {
		t.Errorf("%s is %v, not a socket", path, fi.Mode())
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		t.Errorf("%s is owned by uid %d, not the repo owner %d", path, st.Uid, os.Getuid())
	}
}

// TestSocketPermissions: the API socket is 0600 in a 0700 repo; another
// user can neither connect to it nor use the repo, and the daemon refuses
// other users even when the modes have been loosened by hand.
func TestSocketPermissions(t *testing.T) {
	nobody := nobodyUser(t)
	base := reachableDir(t)
	bin := filepath.Join(base, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	r := newRepo(t)
	r.dir = filepath.Join(base, "repo")
	imgp2p := copyExecutable(t, binPath, bin, "imgp2p")
	dial := filepath.Join(bin, "apidial")
	if out, err := exec.Command("go", "build", "-o", dial, "github.com/imgp2p/imgp2p/e2e/cmd/apidial").CombinedOutput(); err != nil {
		t.Fatalf("go build e2e/cmd/apidial: %v\n%s", err, out)
	}
	os.Chmod(dial, 0o755)

	cid := r.push(helloLayout(t))
	d := r.startDaemon()
	sock := filepath.Join(r.dir, "api.sock")
	wantPerm(t, r.dir, 0o700, false)
	wantPerm(t, sock, 0o600, true)
	wantPerm(t, filepath.Join(r.dir, "identity.key"), 0o600, false)

	// Control: the owner (root here) gets answers, so refusals below are
	// the modes' doing and not a broken client.
	if res := runIn(t, netns, dial, sock); !bytes.Contains(res.stdout, []byte(d.ID)) {
		t.Fatalf("apidial as the owner got no id answer: %v", res)
	}

	// asNobody tries the socket and the repo as nobody; wantDial is the
	// apidial exit status expected.
	asNobody := func(t *testing.T, wantDial int, why string) {
		t.Helper()
		res := nobody.run(t, dial, sock)
		if res.code != wantDial {
			t.Errorf("apidial as uid %d: exit %d, want %d (%s): %v", nobody.uid, res.code, wantDial, why, res)
		} else {
			t.Logf("uid %d: %s", nobody.uid, bytes.TrimSpace(res.stdout))
		}
		for _, cmd := range [][]string{{"ls"}, {"id"}, {"pull", "--offline", cid}} {
			res := nobody.run(t, append([]string{imgp2p, "--repo", r.dir}, cmd...)...)
			if res.code == 0 {
				t.Errorf("uid %d used the repo: %v", nobody.uid, res)
				continue
			}
			if bytes.Contains(res.stdout, []byte(cid)) || bytes.Contains(res.stdout, []byte(d.ID)) {
				t.Errorf("uid %d got the repo's data: %v", nobody.uid, res)
			}
			if !bytes.Contains(bytes.ToLower(res.stderr), []byte("permission denied")) {
				t.Errorf("error for uid %d does not say permission denied: %v", nobody.uid, res)
			}
		}
	}

	t.Run("as-shipped", func(t *testing.T) {
		asNobody(t, 3, "the repo directory is 0700")
	})
	t.Run("repo-dir-opened", func(t *testing.T) {
		// Others may traverse the repo now; the socket's own 0600 holds.
		if err := os.Chmod(r.dir, 0o711); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(r.dir, 0o700)
		asNobody(t, 3, "the socket is 0600")
	})
	t.Run("socket-opened", func(t *testing.T) {
		// Both loosened by hand: the daemon itself must check who is
		// calling (SO_PEERCRED) and hang up on anyone but its user.
		if err := os.Chmod(r.dir, 0o711); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(r.dir, 0o700)
		if err := os.Chmod(sock, 0o666); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(sock, 0o600)
		asNobody(t, 5, "the daemon must refuse other users whatever the modes")
		if log := readFile(t, d.log); !strings.Contains(string(log), fmt.Sprintf("uid %d", nobody.uid)) {
			t.Logf("note: the daemon's log does not mention the refused uid %d", nobody.uid)
		}
	})

	// Modes restored; the owner still works through the socket.
	if info, res := r.id(); res.code != 0 || info.ID != d.ID {
		t.Errorf("id through the daemon after the checks: %+v %v", info, res)
	}
	d.stop(t)
}
