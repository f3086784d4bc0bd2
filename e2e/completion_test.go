package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// completer runs the bash completion the way a user's shell does: `source
// <(imgp2p completion bash)` in a fresh bash that finds imgp2p on PATH.
type completer struct {
	t    *testing.T
	path string // PATH with a directory holding imgp2p first
	home string
}

func newCompleter(t *testing.T) *completer {
	t.Helper()
	need(t, "imgp2p binary", binErr)
	need(t, "network namespace", netnsErr)
	_, err := exec.LookPath("bash")
	need(t, "bash", err)
	dir := t.TempDir()
	abs, err := filepath.Abs(binPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(dir, "imgp2p")); err != nil {
		t.Fatal(err)
	}
	return &completer{t: t, path: dir + string(os.PathListSeparator) + os.Getenv("PATH"), home: t.TempDir()}
}

// complete sets COMP_WORDS to words and COMP_CWORD to the last of them
// (the word being typed, "" for a fresh one), calls _imgp2p_complete and
// returns COMPREPLY, sorted.
func (c *completer) complete(words ...string) []string {
	c.t.Helper()
	const script = `set -e
source <(imgp2p completion bash)
[[ $(complete -p imgp2p) == *"-F _imgp2p_complete"* ]] || { echo "imgp2p is not bound to _imgp2p_complete" >&2; exit 1; }
COMP_WORDS=("$@")
COMP_CWORD=$(($# - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_imgp2p_complete
printf '%s\n' "${COMPREPLY[@]}"
`
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	argv := inNetns(append([]string{"bash", "--norc", "--noprofile", "-c", script, "bash"}, words...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = childEnv(c.home, "PATH="+c.path)
	res := execute(cmd, nil)
	if res.code != 0 {
		c.t.Fatalf("completing %q: %v", words, res)
	}
	return sortedLines(res.stdout)
}

// TestCompletionBash: the bash script completes commands, subcommands and
// flags from the binary itself, after global flags too, without touching
// any repo.
func TestCompletionBash(t *testing.T) {
	c := newCompleter(t)
	repoDir := filepath.Join(t.TempDir(), "repo")

	for _, tc := range []struct {
		words []string
		want  []string
	}{
		{[]string{"imgp2p", "pu"}, []string{"pull", "push"}},
		{[]string{"imgp2p", "ve"}, []string{"verify", "version"}},
		{[]string{"imgp2p", "pull", "--fo"}, []string{"--format"}},
		{[]string{"imgp2p", "daemon", "--met"}, []string{"--metrics"}},
		{[]string{"imgp2p", "--repo", repoDir, "pu"}, []string{"pull", "push"}},
	} {
		if got := c.complete(tc.words...); !slices.Equal(got, tc.want) {
			t.Errorf("completing %q: got %q, want %q", tc.words, got, tc.want)
		}
	}

	// A fresh word after pin offers pin's subcommands (and urfave/cli's
	// help, which pin really takes), nothing else.
	got := c.complete("imgp2p", "pin", "")
	for _, want := range []string{"add", "ls", "rm"} {
		if !slices.Contains(got, want) {
			t.Errorf("completing `imgp2p pin `: %q lacks %q", got, want)
		}
	}
	for _, g := range got {
		if !slices.Contains([]string{"add", "ls", "rm", "help", "h"}, g) {
			t.Errorf("completing `imgp2p pin `: %q offers %q, not a pin subcommand", got, g)
		}
	}

	got = c.complete("imgp2p", "")
	for _, want := range []string{"push", "pull", "copy", "daemon", "serve", "ls", "pin", "gc", "verify", "completion"} {
		if !slices.Contains(got, want) {
			t.Errorf("completing `imgp2p `: %q lacks the command %q", got, want)
		}
	}

	if _, err := os.Stat(repoDir); !os.IsNotExist(err) {
		t.Errorf("completion created or touched the repo %s (stat: %v)", repoDir, err)
	}
}

// TestCompletionScripts: zsh and fish scripts are printed and name the
// commands; an unknown or missing shell is an error saying which exist.
func TestCompletionScripts(t *testing.T) {
	r := newRepo(t)

	zsh := string(r.ok("completion", "zsh").stdout)
	if !strings.HasPrefix(zsh, "#compdef imgp2p") || !strings.Contains(zsh, "compdef ") {
		t.Errorf("zsh script does not start with `#compdef imgp2p` and register itself:\n%s", zsh)
	}

	fish := string(r.ok("completion", "fish").stdout)
	if !strings.Contains(fish, "complete -c imgp2p") {
		t.Errorf("fish script has no `complete -c imgp2p` lines:\n%.2000s", fish)
	}
	for _, cmd := range []string{"push", "pull", "copy", "daemon", "serve", "ls", "pin", "gc", "verify", "completion"} {
		if !strings.Contains(fish, "'"+cmd+"'") {
			t.Errorf("fish script does not complete the command %q", cmd)
		}
	}
	if !strings.Contains(fish, "-l format") {
		t.Errorf("fish script does not complete pull's --format")
	}

	for _, args := range [][]string{{"completion", "tcsh"}, {"completion"}} {
		res := r.fails(args...)
		for _, sh := range []string{"bash", "zsh", "fish"} {
			if !strings.Contains(string(res.stderr), sh) {
				t.Errorf("%q: the error should list the shells there are (%s missing): %v", args, sh, res)
			}
		}
		if len(res.stdout) != 0 {
			t.Errorf("%q printed on stdout: %q", args, res.stdout)
		}
		if strings.Contains(string(res.stderr), `""`) {
			t.Errorf("%q names an empty shell: %s", args, res.stderr)
		}
	}
	if _, err := os.Stat(r.dir); !os.IsNotExist(err) {
		t.Errorf("completion created the repo %s (stat: %v)", r.dir, err)
	}
}
