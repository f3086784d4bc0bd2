package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bgProc is a long-running process of a test: a gateway, containerd, a
// registry. It is stopped when the test ends.
type bgProc struct {
	name   string
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd.Wait returns
	err    error         // cmd.Wait's result, valid after exited
	log    string        // file holding its stdout and stderr
	clean  bool          // must exit 0 on SIGINT (imgp2p); others get SIGTERM
}

func startProc(t testing.TB, name string, cmd *exec.Cmd, cancel context.CancelFunc, clean bool) *bgProc {
	t.Helper()
	log := filepath.Join(t.TempDir(), strings.ReplaceAll(name, " ", "-")+".log")
	f, err := os.Create(log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &bgProc{name: name, cmd: cmd, exited: make(chan struct{}), log: log, clean: clean}
	go func() { p.err = cmd.Wait(); cancel(); close(p.exited) }()
	t.Cleanup(func() { p.stop(t) })
	return p
}

func (p *bgProc) done() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

func (p *bgProc) logText() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// stop signals the process and waits, bounded, for it to exit; for imgp2p
// a non-zero exit fails the test. Idempotent.
func (p *bgProc) stop(t testing.TB) {
	t.Helper()
	if p.done() {
		return
	}
	sig := syscall.SIGTERM
	if p.clean {
		sig = syscall.SIGINT
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
		if p.clean && p.err != nil {
			t.Errorf("%s exited with %v after SIGINT; log:\n%s", p.name, p.err, p.logText())
		}
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("%s still running 30s after %v; log:\n%s", p.name, sig, p.logText())
	}
}

// hostCommand is r.command outside any namespace: `imgp2p --repo DIR
// args...` on the host. Only for an offline gateway (see the top of this
// file).
func (r *repo) hostCommand(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, binPath, append([]string{"--repo", r.dir}, args...)...)
	cmd.Env = childEnv(filepath.Dir(r.dir))
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// lookTool finds a client tool on PATH or where `go install` puts it.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	out, err := exec.Command("go", "env", "GOBIN", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("%s is not on PATH (and go env failed: %v)", name, err)
	}
	// One line each, GOBIN's empty when unset: no TrimSpace before Split.
	lines := strings.Split(string(out), "\n")
	var dirs []string
	if lines[0] != "" {
		dirs = append(dirs, lines[0])
	}
	if len(lines) > 1 {
		for _, gp := range filepath.SplitList(strings.TrimSpace(lines[1])) {
			dirs = append(dirs, filepath.Join(gp, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is neither on PATH nor in %v", name, dirs)
}

// runIn runs argv inside namespace ns (onHost: on the host) with HOME set
// to a scratch dir, and fails the test unless it exits 0.
func runIn(t testing.TB, ns string, argv ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	if ns != onHost {
		argv = inNamespace(ns, argv...)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = childEnv(t.TempDir())
	res := execute(cmd, nil)
	if res.code != 0 {
		t.Fatalf("want success: %v", res)
	}
	return res
}

// trimmedLines splits output into its non-empty lines.
func trimmedLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(bytes.TrimSpace(b)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// sha256Digest is the OCI digest of b.
func sha256Digest(b []byte) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256(b))
}
