package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// setWinsize gives a terminal a size, as a terminal emulator does; a pty
// starts at 0×0, which no real terminal has.
func setWinsize(f *os.File, rows, cols uint16) error {
	ws := struct{ Row, Col, X, Y uint16 }{rows, cols, 0, 0}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws))); e != 0 {
		return e
	}
	return nil
}

// runStderrOnTTY runs imgp2p args with stderr on a fresh 40×120 terminal
// (stdout and stdin are not terminals) and returns the result with
// everything the terminal received as its stderr.
func (r *repo) runStderrOnTTY(args ...string) result {
	r.t.Helper()
	master, slave, err := openPTY()
	need(r.t, "pseudo-terminal", err)
	defer master.Close()
	if err := setWinsize(slave, 40, 120); err != nil {
		r.t.Fatalf("sizing the pty: %v", err)
	}
	var onTTY bytes.Buffer
	drained := make(chan struct{})
	go func() { io.Copy(&onTTY, master); close(drained) }()

	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := r.command(ctx, args...)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, slave
	start := time.Now()
	err = cmd.Run()
	slave.Close() // with the last slave fd closed, the master reads EIO
	select {
	case <-drained:
	case <-time.After(10 * time.Second):
		r.t.Fatal("pty master did not reach EOF")
	}
	return finish(cmd, err, stdout.Bytes(), onTTY.Bytes(), start)
}

// wantBars checks that stderr on a terminal showed a progress bar for the
// blob digest, in MiB, and ended with the summary line for cid.
func wantBars(t *testing.T, what string, res result, digest, cid string) {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("%s: %v", what, res)
	}
	out := string(res.stderr)
	// A bar is redrawn in place: look for one rendering of it (between
	// line breaks or carriage returns) with the label and the counts.
	bar := false
	for _, seg := range strings.FieldsFunc(out, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.Contains(seg, digest[:12]) && strings.Contains(seg, "MiB") {
			bar = true
			break
		}
	}
	if !bar {
		t.Errorf("%s: no bar labelled with the layer's digest prefix %s and counting MiB on the terminal: %q", what, digest[:12], out)
	}
	if !strings.Contains(out, "pulled "+cid) {
		t.Errorf("%s: no summary line after the bars: %q", what, out)
	}
}

// wantOnlySummary checks stderr of a pull that is not on a terminal: the
// summary line for cid, alone, with no terminal control characters.
func wantOnlySummary(t *testing.T, what string, res result, cid string) {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("%s: %v", what, res)
	}
	lines := strings.Split(strings.TrimSuffix(string(res.stderr), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "pulled "+cid) {
		t.Errorf("%s: stderr should be exactly the summary line `pulled %s …`, got %d lines: %q", what, cid, len(lines), res.stderr)
	}
	if bytes.ContainsAny(res.stderr, "\r\x1b") {
		t.Errorf("%s: terminal control characters on a pipe: %q", what, res.stderr)
	}
}

// TestProgressTerminal: a pull whose stderr is a terminal shows a bar per
// big blob (digest prefix, MiB), then the summary; -q shows nothing at all.
// The file written is the same as without bars.
func TestProgressTerminal(t *testing.T) {
	r := newRepo(t)
	layout := randomLayout(t, 16, 1001)
	layer := digests(t, layout).Layers[0].Hex
	cid := r.push(layout)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.tar")
	r.ok("pull", "--offline", "-o", plain, cid)

	withBars := filepath.Join(dir, "bars.tar")
	wantBars(t, "pull -o on a terminal", r.runStderrOnTTY("pull", "--offline", "-o", withBars, cid), layer, cid)
	if !bytes.Equal(readFile(t, withBars), readFile(t, plain)) {
		t.Errorf("the file pulled with bars on the terminal differs from the one pulled without")
	}
	ociDir := filepath.Join(dir, "layout")
	wantBars(t, "pull --format oci on a terminal", r.runStderrOnTTY("pull", "--offline", "--format", "oci", "-o", ociDir, cid), layer, cid)
	sameLayout(t, ociDir, layout)

	for _, q := range []string{"-q", "--quiet"} {
		res := r.runStderrOnTTY("pull", "--offline", q, "-o", filepath.Join(dir, "quiet"+q+".tar"), cid)
		if res.code != 0 {
			t.Fatalf("pull %s: %v", q, res)
		}
		if len(res.stderr) != 0 {
			t.Errorf("pull %s wrote %d bytes to the terminal: %q", q, len(res.stderr), res.stderr)
		}
	}
}

// TestProgressTerminalFromPeer: bars also show while blocks arrive from a
// peer, through the pulling repo's daemon.
func TestProgressTerminalFromPeer(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	layout := randomLayout(t, 32, 1002)
	cid := a.push(layout)
	b := newRepo(t)
	b.startDaemon("--mdns=false")
	res := b.runStderrOnTTY("pull", "--peer", da.Addr, "--timeout", "2m", "-o", filepath.Join(t.TempDir(), "img.tar"), cid)
	wantBars(t, "pull from a peer through the daemon, on a terminal", res, digests(t, layout).Layers[0].Hex, cid)
}

// TestProgressPipe: with stderr not a terminal there are no bars, only the
// one summary line, whatever the output and wherever the blocks come from;
// -q leaves stderr empty. (The peer pull turns mDNS off: the test
// namespace has no multicast interface, and the warning saying so is
// right, but it is about the machine, not about progress.)
func TestProgressPipe(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	layout := randomLayout(t, 16, 1003)
	cid := a.push(layout)
	dir := t.TempDir()

	b := newRepo(t)
	wantOnlySummary(t, "pull --peer -o, to a pipe", b.run(nil, "pull", "--mdns=false", "--peer", da.Addr, "--timeout", "2m", "-o", filepath.Join(dir, "peer.tar"), cid), cid)
	wantOnlySummary(t, "pull -o from the repo, to a pipe", b.run(nil, "pull", "--offline", "-o", filepath.Join(dir, "local.tar"), cid), cid)
	res := b.run(nil, "pull", "--offline", cid)
	wantOnlySummary(t, "pull to stdout, stderr to a pipe", res, cid)
	if !bytes.Equal(res.stdout, readFile(t, filepath.Join(dir, "local.tar"))) {
		t.Errorf("pull to stdout differs from pull -o")
	}
	wantOnlySummary(t, "pull through a daemon, to a pipe", a.run(nil, "pull", "-o", filepath.Join(dir, "daemon.tar"), cid), cid)

	for _, args := range [][]string{
		{"pull", "-q", "--offline", "-o", filepath.Join(dir, "q.tar"), cid},
		{"pull", "--quiet", "--offline", cid},
	} {
		res := b.run(nil, args...)
		if res.code != 0 || len(res.stderr) != 0 {
			t.Errorf("%q should succeed with nothing on stderr: %v", args, res)
		}
	}
}
