package e2e

import (
	"bytes"
	"testing"
	"time"
)

// TestSecondNodeOnADaemonsRepoSaysWhatToDo: `imgp2p serve` (or a second
// `imgp2p daemon`) on a repo a daemon owns waited 5 s in silence, then
// said only "repo … is in use by process N". A daemon does not let go,
// so it is refused at once, and serve is pointed at daemon --registry.
func TestSecondNodeOnADaemonsRepoSaysWhatToDo(t *testing.T) {
	r := newRepo(t)
	r.startDaemon()
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"serve", "--listen", "127.0.0.1:0"}, "imgp2p daemon --registry 127.0.0.1:0"},
		{[]string{"daemon", "--listen", "/ip4/127.0.0.1/tcp/0"}, "another --repo"},
	} {
		res := r.fails(c.args...)
		if !bytes.Contains(res.stderr, []byte("already runs on repo")) || !bytes.Contains(res.stderr, []byte(c.says)) {
			t.Errorf("%v: %v, want it to name the running daemon and say %q", c.args, res, c.says)
		}
		// The repo lock was waited on for 5 s before; the daemon is
		// found at the first try now.
		if res.elapsed > 3*time.Second {
			t.Errorf("%v: took %v to refuse", c.args, res.elapsed)
		}
	}
}
