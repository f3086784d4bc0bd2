package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"hash"
	"io"
	"os/exec"
	"testing"
	"time"
)

// heldPull is a pull whose tar the test reads at its own pace: once the
// test stops reading, the pull (and the pin lock it holds) stays in
// flight, which is how the gc tests put a pull and a gc side by side.
type heldPull struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr bytes.Buffer
	sum    hash.Hash // of every byte read so far
	start  time.Time
	exited chan struct{}
	err    error
}

// startHeldPull starts `imgp2p pull args...` in r and reads its first n
// bytes. A pull the test leaves unfinished is interrupted and reaped at
// the test's end.
func startHeldPull(t *testing.T, r *repo, n int64, args ...string) *heldPull {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	p := &heldPull{cmd: r.command(ctx, append([]string{"pull"}, args...)...), sum: sha256.New(), exited: make(chan struct{})}
	p.cmd.Stderr = &p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.stdout = stdout
	p.start = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if !isClosed(p.exited) {
			io.Copy(io.Discard, p.stdout)
			p.wait()
		}
	})
	if _, err := io.CopyN(p.sum, p.stdout, n); err != nil {
		// Reap it before reading stderr, which its Wait finishes writing.
		io.Copy(io.Discard, p.stdout)
		p.wait()
		t.Fatalf("reading the first %d bytes of the pull: %v\nstderr: %s", n, err, p.stderr.Bytes())
	}
	return p
}

func (p *heldPull) wait() {
	p.err = p.cmd.Wait()
	close(p.exited)
}

// finish reads the rest of the tar and waits for the pull: its result,
// and the sha256 of all it wrote.
func (p *heldPull) finish(t *testing.T) (result, []byte) {
	t.Helper()
	if _, err := io.Copy(p.sum, p.stdout); err != nil {
		t.Fatalf("reading the rest of the pull: %v", err)
	}
	p.wait()
	return finish(p.cmd, p.err, nil, p.stderr.Bytes(), p.start), p.sum.Sum(nil)
}

// outcome is an exited process's result, with its log (stdout and stderr
// together) as its stdout. A process still running has none yet.
func (p *bgProc) outcome() result {
	if !p.done() {
		return result{argv: p.cmd.Args, code: -1, stdout: []byte(p.logText())}
	}
	return finish(p.cmd, p.err, []byte(p.logText()), nil, time.Now())
}
