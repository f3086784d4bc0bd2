package e2e

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// Helpers for tests that kill imgp2p mid-way, fill its disk or load it:
// background commands that can be SIGKILLed, the repo's disk usage, the
// pull summary, and big images.

// bigLayout is a 256 MiB image in four 64 MiB layers: a pull of it takes
// long enough to be killed part-way, and fetches several blobs at a time.
func bigLayout(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "big")
	if err := testimage.WriteRandomLayers(dir, []int{64, 64, 64, 64}, 4242, runtime.GOARCH); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startBackground runs `imgp2p args...` on r without waiting for it; its
// stdout and stderr go to the returned process's log. The test may SIGKILL
// it; if it is still running when the test ends it gets SIGTERM.
func (r *repo) startBackground(stdin io.Reader, args ...string) *bgProc {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := r.command(ctx, args...)
	cmd.Stdin = stdin
	return startProc(r.t, "imgp2p "+args[0], cmd, cancel, false)
}

// kill9 SIGKILLs p (imgp2p itself: `ip netns exec` execs in place) and
// waits for it to be gone.
func kill9(t testing.TB, p *bgProc) {
	t.Helper()
	if p.done() {
		t.Fatalf("%s exited (%v) before the test could kill it; log:\n%s", p.name, p.err, p.logText())
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still there 30s after SIGKILL", p.name)
	}
}

// waitUntil polls cond until it holds, failing the test if deadline passes
// first or if p (when not nil) exits first.
func waitUntil(t testing.TB, what string, timeout time.Duration, p *bgProc, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if p != nil && p.done() {
			t.Fatalf("%s exited (%v) before %s; log:\n%.4000s", p.name, p.err, what, p.logText())
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %v", what, timeout)
		}
		time.Sleep(5 * time.Millisecond) // poll interval; the deadline bounds the loop
	}
}

// allocatedBytes is the space files under dir really occupy (allocated blocks,
// as du counts them): badger's value log is a sparse file whose apparent
// size says nothing about what has been written.
func allocatedBytes(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				total += st.Blocks * 512
			}
		}
		return nil
	})
	return total
}

// summary is pull's stderr summary line, parsed.
type summary struct {
	line                     string
	fetchedBlocks, localBlks int64
	fetchedBytes, localBytes int64
}

var summaryLine = regexp.MustCompile(`pulled \S+ \([^)]*\): fetched (\d+) blocks \(([^)]*)\)[^\n]*?, (\d+) blocks \(([^)]*)\) already local`)

func parseSummary(t testing.TB, res result) summary {
	t.Helper()
	m := summaryLine.FindSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("no pull summary on stderr: %v", res)
	}
	s := summary{line: string(m[0])}
	s.fetchedBlocks, _ = strconv.ParseInt(string(m[1]), 10, 64)
	s.fetchedBytes = parseIBytes(t, string(m[2]))
	s.localBlks, _ = strconv.ParseInt(string(m[3]), 10, 64)
	s.localBytes = parseIBytes(t, string(m[4]))
	return s
}

// parseIBytes reads humanize.IBytes output ("0 B", "624 KiB", "1.5 GiB").
func parseIBytes(t testing.TB, s string) int64 {
	t.Helper()
	f := strings.Fields(s)
	if len(f) != 2 {
		t.Fatalf("size %q is not NUMBER UNIT", s)
	}
	n, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		t.Fatalf("size %q: %v", s, err)
	}
	units := map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}
	u, ok := units[f[1]]
	if !ok {
		t.Fatalf("size %q: unknown unit", s)
	}
	return int64(n * u)
}

// fileSHA256 hashes a file as it streams: outputs here are hundreds of MiB.
func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// wantRepoEmpty checks that r opens, lists no image, pins nothing and
// verifies clean: what a failed or killed push or pull must leave.
func wantRepoEmpty(t testing.TB, r *repo) {
	t.Helper()
	if res := r.run(nil, "ls"); res.code != 0 {
		t.Errorf("repo does not open: %s", brief(res))
	} else if anyCID.Match(res.stdout) {
		t.Errorf("ls lists an image:\n%s", res.stdout)
	}
	if res := r.run(nil, "pin", "ls"); res.code != 0 {
		t.Errorf("pin ls failed: %s", brief(res))
	} else if len(strings.TrimSpace(string(res.stdout))) != 0 {
		t.Errorf("pin ls lists pins:\n%s", res.stdout)
	}
	wantVerifyClean(t, r)
}

// wantVerifyClean runs `imgp2p verify` (every block in the repo re-hashed)
// and fails the test unless it finds no problem.
func wantVerifyClean(t testing.TB, r *repo) {
	t.Helper()
	if res := r.run(nil, "verify"); res.code != 0 || len(strings.TrimSpace(string(res.stdout))) != 0 {
		t.Errorf("verify found problems (or failed): %s\nstdout: %.2000s", brief(res), res.stdout)
	}
}

// throttledNamespace is a private loopback-only namespace whose loopback
// carries at most rate (tc syntax, "400mbit"): transfers in it last long
// enough to be interrupted at a chosen point. Without tc it is unthrottled.
func throttledNamespace(t testing.TB, rate string) string {
	t.Helper()
	ns := newLoopbackNamespace(t)
	out, err := exec.Command("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root",
		"tbf", "rate", rate, "burst", "256kb", "latency", "50ms").CombinedOutput()
	if err != nil {
		t.Logf("loopback not throttled (tc: %v: %s); the kill point relies on polling alone", err, out)
	}
	return ns
}
