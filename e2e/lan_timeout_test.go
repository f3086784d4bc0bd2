package e2e

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestLANTimeoutBoundsDial: a peer that accepts TCP but never answers must
// not hold a pull past its --timeout, whether the pull runs alone or
// through a daemon. A daemon stopped with SIGSTOP is such a peer: the
// kernel still completes TCP handshakes on its listening socket, so a dial
// hangs in the libp2p handshake until libp2p's own timeout (5 s for LAN
// addresses), which is longer than the --timeout used here.
func TestLANTimeoutBoundsDial(t *testing.T) {
	l := newLAN(t)
	hx, hd := l.host("x"), l.host("d")
	dx := hx.daemon(hx.repo(t))
	if err := dx.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	resume := func() { dx.cmd.Process.Signal(syscall.SIGCONT) }
	t.Cleanup(resume) // runs before dx's own cleanup stops it with SIGINT
	alone, viaDaemon := hd.repo(t), hd.repo(t)
	hd.daemon(viaDaemon, "--mdns=false")

	for _, tc := range []struct {
		name string
		r    *repo
	}{{"alone", alone}, {"through its daemon", viaDaemon}} {
		res := tc.r.fails("pull", "--peer", dx.Addr, "--timeout", "1s", "-o", filepath.Join(t.TempDir(), "x.tar"), unknownCID())
		t.Logf("pull %s, dialing a peer that never answers: failed after %v: %s", tc.name, res.elapsed.Round(time.Millisecond), res.stderr)
		if res.elapsed > 4*time.Second {
			t.Errorf("pull --timeout 1s %s took %v", tc.name, res.elapsed)
		}
	}
	resume()
}
