package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// A hostile peer: e2e/cmd/liar claims every block and answers each want
// with bytes that do not hash to the CID.

// buildLiar builds e2e/cmd/liar into the test's temp dir (the build cache
// makes this a link after the first time).
func buildLiar(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "liar")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/imgp2p/imgp2p/e2e/cmd/liar").CombinedOutput(); err != nil {
		t.Fatalf("go build e2e/cmd/liar: %v\n%s", err, out)
	}
	return bin
}

// liar is a running lying peer.
type liar struct {
	*bgProc
	Addr string // its multiaddr, with /p2p/ID
}

// startLiar runs the lying peer in namespace ns (the test namespace when
// ""), listening on 127.0.0.1.
func startLiar(t testing.TB, ns string) *liar {
	t.Helper()
	if ns == "" {
		ns = netns
	}
	bin := buildLiar(t)
	ctx, cancel := context.WithCancel(context.Background())
	argv := inNamespace(ns, bin)
	p := startProc(t, "liar", exec.CommandContext(ctx, argv[0], argv[1:]...), cancel, false)
	// Its first stdout line, in the log with its stderr, is the address.
	var addr string
	waitUntil(t, "liar's address", 60*time.Second, p, func() bool {
		addr = liarAddr.FindString(p.logText())
		return addr != ""
	})
	return &liar{bgProc: p, Addr: addr}
}

var liarAddr = regexp.MustCompile(`(?m)^/ip4/127\.0\.0\.1/tcp/\d+/p2p/\w+$`)

var liarTotal = regexp.MustCompile(`total: (\d+) wants answered, (\d+) blocks \((\d+) bytes\) sent`)

// stopAndCount stops the liar and returns how many wrong blocks it sent.
func (l *liar) stopAndCount(t testing.TB) (blocks, bytes string) {
	t.Helper()
	l.stop(t)
	m := liarTotal.FindStringSubmatch(l.logText())
	if m == nil {
		t.Fatalf("liar printed no totals; log:\n%.4000s", l.logText())
	}
	return m[2], m[3]
}

// TestHostilePeer: with a lying peer and an honest one, a pull writes the
// right bytes in about the time the honest peer alone needs, stores no
// wrong block and credits no wrong bytes; with the liar alone it fails
// within --timeout, leaving no output and no block.
func TestHostilePeer(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon()
	small := a.push(randomLayout(t, 24, 13))
	big := a.push(bigLayout(t))
	out := t.TempDir()
	refs := map[string]string{}
	for _, c := range []string{small, big} {
		refs[c] = filepath.Join(out, c+".tar")
		a.ok("pull", "--offline", "-o", refs[c], c)
	}
	lr := startLiar(t, "")
	liarID := lr.Addr[strings.LastIndex(lr.Addr, "/")+1:]

	t.Run("with-honest-peer", func(t *testing.T) {
		lied := 0
		for _, c := range []string{small, big} {
			base := newRepo(t).ok("pull", "--peer", da.Addr, "--timeout", "60s", "-o", filepath.Join(t.TempDir(), "base.tar"), c)
			t.Logf("honest peer alone: %s", parseSummary(t, base).line)
		}
		for _, tc := range []struct {
			cid   string
			peers []string
		}{
			{small, []string{lr.Addr, da.Addr}},
			{small, []string{da.Addr, lr.Addr}},
			// 256 MiB in four layers, blobs fetched several at a time:
			// more wants for the liar to answer.
			{big, []string{lr.Addr, da.Addr}},
		} {
			b := newRepo(t)
			info, idRes := b.id()
			if idRes.code != 0 {
				t.Fatalf("imgp2p id: %s", brief(idRes))
			}
			got := filepath.Join(t.TempDir(), "b.tar")
			// Under the harness's 3 minutes, so a stall reports here: an
			// honest pull of either image over loopback takes seconds.
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			res := execute(b.command(ctx, "pull", "--peer", tc.peers[0], "--peer", tc.peers[1], "--timeout", "60s", "-o", got, tc.cid), nil)
			cancel()
			if res.code != 0 {
				t.Errorf("pull with peers %v failed (the liar must not stop the honest peer's blocks): %s", tc.peers, brief(res))
				wantVerifyClean(t, b)
				continue
			}
			if fileSHA256(t, got) != fileSHA256(t, refs[tc.cid]) {
				t.Errorf("pull with a lying peer wrote different bytes")
			}
			t.Logf("peers %v: %s (in %v)", tc.peers, parseSummary(t, res).line, res.elapsed.Round(time.Millisecond))
			// The liar may cost a round trip or a timeout per block it was
			// asked for, not a stalled pull.
			if res.elapsed > 30*time.Second {
				t.Errorf("pull with peers %v took %v; with the honest peer alone it takes seconds", tc.peers, res.elapsed.Round(time.Millisecond))
			}
			// The summary's per-peer bytes must not credit the liar: what
			// it sent was thrown away.
			if short := liarID[len(liarID)-8:]; strings.Contains(parseSummary(t, res).line, short) {
				t.Errorf("summary credits the lying peer …%s with bytes it fetched: %s", short, parseSummary(t, res).line)
			}
			// A user lied to is told which peer lied. Whether the liar is
			// asked at all is up to bitswap: the honest peer may answer
			// every want first.
			if strings.Contains(lr.logText(), " to "+info.ID) {
				lied++
				if !bytes.Contains(res.stderr, []byte("peer "+liarID+" sent blocks it was not asked for")) {
					t.Errorf("the liar sent this pull blocks, and the pull did not name it (%s) on stderr: %s", liarID, brief(res))
				}
			}
			wantVerifyClean(t, b)
		}
		if lied == 0 {
			t.Errorf("the liar sent none of the pulls with an honest peer a block: they proved nothing")
		}
	})

	t.Run("liar-only", func(t *testing.T) {
		c := newRepo(t)
		dir := t.TempDir()
		res := c.run(nil, "pull", "--peer", lr.Addr, "--timeout", "10s", "-o", filepath.Join(dir, "img.tar"), small)
		if res.code == 0 {
			t.Fatalf("pull from a lying peer alone succeeded: %v", res)
		}
		t.Logf("liar alone: exit %d after %v: %s", res.code, res.elapsed.Round(time.Millisecond), lastLine(res.stderr))
		if res.elapsed > 40*time.Second {
			t.Errorf("pull --timeout 10s from a lying peer took %v", res.elapsed)
		}
		emptyDir(t, dir)
		wantRepoEmpty(t, c)
		// And nothing of the image at all: no block the liar sent was kept.
		if r := c.run(nil, "pull", "--offline", "-o", filepath.Join(dir, "again.tar"), small); r.code == 0 {
			t.Errorf("the repo holds the image after a pull from the liar alone")
		}
	})

	blocks, n := lr.stopAndCount(t)
	t.Logf("the liar sent %s wrong blocks (%s bytes) in all; none was stored or written", blocks, n)
	if blocks == "0" {
		t.Errorf("the liar was never asked for a block: this test proved nothing")
	}
	da.stop(t)
}

// lastLine is the last non-empty line of b.
func lastLine(b []byte) string {
	lines := trimmedLines(b)
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}
