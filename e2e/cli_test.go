package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// cmdTimeout bounds any single imgp2p invocation, so a hang fails the test
// with its output instead of eating the whole suite's timeout.
const cmdTimeout = 3 * time.Minute

// repo is one fresh imgp2p repo, and runs imgp2p commands against it.
type repo struct {
	t   testing.TB
	dir string
	// viaEnv selects the repo with IMGP2P_PATH instead of --repo.
	viaEnv bool
	// netns is the namespace its commands run in; "" is the shared
	// loopback-only test namespace.
	netns string
	// exe is the command line that runs imgp2p (an arm64 build under
	// qemu-aarch64-static, say); nil is binPath.
	exe []string
}

// newRepo gives the test an imgp2p repo of its own. The directory does not
// exist yet: imgp2p creates a repo on first use.
func newRepo(t testing.TB) *repo {
	t.Helper()
	need(t, "imgp2p binary", binErr)
	need(t, "network namespace", netnsErr)
	return &repo{t: t, dir: filepath.Join(t.TempDir(), "repo")}
}

// result is the outcome of one finished command.
type result struct {
	argv           []string
	stdout, stderr []byte
	code           int // exit status; -1 if killed or not started
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("`%s` exited %d after %v\nstdout: %.2000q\nstderr: %.4000s",
		strings.Join(r.argv, " "), r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

// childEnv is the environment of every imgp2p process: the test's, minus
// IMGP2P_PATH (tests select repos explicitly), with HOME pointing at a
// scratch dir so a forgotten --repo can never touch ~/.imgp2p.
func childEnv(home string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "IMGP2P_PATH=") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	return append(append(env, "HOME="+home), extra...)
}

// command is `imgp2p --repo DIR args...` inside the repo's namespace.
func (r *repo) command(ctx context.Context, args ...string) *exec.Cmd {
	exe := r.exe
	if exe == nil {
		exe = []string{binPath}
	}
	argv := append(slices.Clip(exe), "--repo", r.dir)
	var env []string
	if r.viaEnv {
		argv, env = argv[:len(exe)], []string{"IMGP2P_PATH=" + r.dir}
	}
	if r.netns != "" {
		argv = inNamespace(r.netns, append(argv, args...)...)
	} else {
		argv = inNetns(append(argv, args...)...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = childEnv(filepath.Dir(r.dir), env...) // the repo's private temp dir

	// On timeout, ask nicely first so the process can release its repo.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// execute runs cmd to completion with the given stdin and records everything.
func execute(cmd *exec.Cmd, stdin io.Reader) result {
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	start := time.Now()
	return finish(cmd, cmd.Run(), out.Bytes(), errb.Bytes(), start)
}

// finish turns the error of a finished command into a result.
func finish(cmd *exec.Cmd, err error, stdout, stderr []byte, start time.Time) result {
	res := result{argv: cmd.Args, stdout: stdout, stderr: stderr, elapsed: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		res.code = -1
		res.stderr = append(res.stderr, []byte("\n[test harness: "+err.Error()+"]")...)
	}
	return res
}

// run runs imgp2p with stdin (nil for none) and returns whatever happened.
func (r *repo) run(stdin io.Reader, args ...string) result {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	return execute(r.command(ctx, args...), stdin)
}

// ok runs imgp2p and fails the test unless it exits 0.
func (r *repo) ok(args ...string) result {
	r.t.Helper()
	res := r.run(nil, args...)
	if res.code != 0 {
		r.t.Fatalf("want success: %v", res)
	}
	return res
}

// fails runs imgp2p and fails the test unless it exits non-zero with a
// message on stderr.
func (r *repo) fails(args ...string) result {
	r.t.Helper()
	res := r.run(nil, args...)
	if res.code == 0 {
		r.t.Fatalf("want failure: %v", res)
	}
	if len(bytes.TrimSpace(res.stderr)) == 0 {
		r.t.Errorf("failed without a message on stderr: %v", res)
	}
	return res
}
