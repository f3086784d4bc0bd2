package e2e

import (
	"bytes"
	"path/filepath"
	"testing"
)

// TestPeerPull: daemon A holds images pushed through its API; B, with no
// daemon, pulls them from A over loopback and then has them on its own.
// The random image spans many 1 MiB blocks, so a transfer that stops after
// the first block or reorders blocks shows up as different bytes.
func TestPeerPull(t *testing.T) {
	a := newRepo(t)
	da := a.startDaemon()
	tmp := t.TempDir()

	for _, tc := range []struct{ name, layout string }{
		{"hello", helloLayout(t)},
		{"random", randomLayout(t, 24, 7)},
	} {
		name, layout := tc.name, tc.layout
		t.Run(name, func(t *testing.T) {
			cid := a.push(layout)
			// The daemon must not change what push prints.
			if direct := newRepo(t).push(layout); direct != cid {
				t.Errorf("push through the daemon gave %s, a daemon-less repo %s", cid, direct)
			}
			if ls := a.ok("ls"); !bytes.Contains(ls.stdout, []byte(cid)) {
				t.Errorf("ls through the daemon does not list %s:\n%s", cid, ls.stdout)
			}
			fromA := filepath.Join(tmp, name+"-a.tar")
			a.ok("pull", "-o", fromA, cid)

			b := newRepo(t)
			fromB := filepath.Join(tmp, name+"-b.tar")
			b.ok("pull", "--peer", da.Addr, "--timeout", "2m", "-o", fromB, cid)
			if !bytes.Equal(readFile(t, fromA), readFile(t, fromB)) {
				t.Fatalf("B's pull from A differs from A's local pull")
			}
			// B pinned what it fetched: no peer needed any more.
			again := filepath.Join(tmp, name+"-b-offline.tar")
			b.ok("pull", "--offline", "-o", again, cid)
			if !bytes.Equal(readFile(t, fromA), readFile(t, again)) {
				t.Fatalf("B's offline pull differs from A's")
			}
			if ls := b.ok("ls"); !bytes.Contains(ls.stdout, []byte(cid)) {
				t.Errorf("B's ls does not list %s after pulling it:\n%s", cid, ls.stdout)
			}
		})
	}
	da.stop(t)
}
