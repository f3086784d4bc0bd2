package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bare runs imgp2p with exactly args (no --repo, no IMGP2P_PATH), HOME a
// scratch directory, and says whether the default repo under it appeared.
func bare(t *testing.T, args ...string) (res result, madeDefault bool) {
	t.Helper()
	need(t, "imgp2p binary", binErr)
	need(t, "network namespace", netnsErr)
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	argv := inNetns(append([]string{binPath}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = childEnv(home)
	res = execute(cmd, nil)
	_, err := os.Stat(filepath.Join(home, ".imgp2p"))
	return res, err == nil
}

// TestRepoFlagAfterTheCommandName: `imgp2p ls --repo DIR` failed with
// "flag provided but not defined: -repo (see imgp2p ls --help)", and that
// help did not list --repo. ipfs and crane take their global flags after
// the command name too; so does imgp2p now, nearest the command winning.
func TestRepoFlagAfterTheCommandName(t *testing.T) {
	r := newRepo(t)
	cid := r.push(helloLayout(t))

	res, madeDefault := bare(t, "ls", "-q", "--repo", r.dir)
	if res.code != 0 || strings.TrimSpace(string(res.stdout)) != cid {
		t.Fatalf("ls -q --repo DIR: %v, want %s", res, cid)
	}
	if madeDefault {
		t.Errorf("ls --repo DIR created the default repo ~/.imgp2p")
	}
	res, _ = bare(t, "pin", "ls", "--repo", r.dir)
	if res.code != 0 || !bytes.Contains(res.stdout, []byte(cid)) {
		t.Errorf("pin ls --repo DIR: %v, want %s listed", res, cid)
	}
	other := filepath.Join(t.TempDir(), "other")
	res, _ = bare(t, "--repo", other, "ls", "-q", "--repo", r.dir)
	if res.code != 0 || strings.TrimSpace(string(res.stdout)) != cid {
		t.Errorf("--repo A ls --repo B: %v, want B's %s", res, cid)
	}
}

// TestUnknownCommandIsOneLineError: `imgp2p frob` printed urfave/cli's
// "No help topic for 'frob'" and exited 3; `imgp2p pin frob` the same.
// Now it is one line naming the command and where the list is, and a
// command group given no subcommand is an error too, not help on stdout.
func TestUnknownCommandIsOneLineError(t *testing.T) {
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"frob"}, `unknown command "frob" (imgp2p --help lists them)`},
		// pin's own action names its subcommands (usage_repo_test.go).
		{[]string{"pin", "frob"}, `pin has no subcommand "frob": use add, rm or ls (imgp2p pin --help)`},
		// `imgp2p swarm-key > swarm.key` (generate forgotten) wrote the
		// help into the key file and exited 0.
		{[]string{"swarm-key"}, `swarm-key needs a subcommand: generate (imgp2p swarm-key --help)`},
		{[]string{"swarm-key", "frob"}, `swarm-key has no subcommand "frob": use generate (imgp2p swarm-key --help)`},
	} {
		res, _ := bare(t, c.args...)
		if res.code != 1 || len(res.stdout) != 0 || strings.TrimSpace(string(res.stderr)) != "imgp2p: "+c.says {
			t.Errorf("%v: %v, want exit 1 and only %q on stderr", c.args, res, c.says)
		}
	}
	// Nothing at all still shows the help, successfully.
	if res, _ := bare(t); res.code != 0 || !bytes.Contains(res.stdout, []byte("COMMANDS:")) {
		t.Errorf("imgp2p alone: %v, want the help", res)
	}
}

// TestVersionFlag: `imgp2p --version` (docker's, crane's and ipfs's
// spelling) was an unknown flag; it prints what `imgp2p version` does.
func TestVersionFlag(t *testing.T) {
	want, _ := bare(t, "version")
	got, _ := bare(t, "--version")
	if want.code != 0 || got.code != 0 || !bytes.HasPrefix(got.stdout, []byte("imgp2p ")) || !bytes.Equal(got.stdout, want.stdout) {
		t.Fatalf("--version: %v\nversion: %v", got, want)
	}
}
