package e2e

import (
	"bytes"
	"strings"
	"testing"
)

// TestRepoCommandUsageErrors: repo commands refuse arguments they would
// ignore, with one line on stderr and nothing on stdout. `verify A B`
// checked A and reported success; `pin` alone printed the help on stdout
// and exited 0, and `pin bogus` said "No help topic" with exit 3.
func TestRepoCommandUsageErrors(t *testing.T) {
	r := newRepo(t)
	cid := r.push(helloLayout(t))
	cases := []struct {
		args []string
		says string
	}{
		{[]string{"verify", cid, "imgp2p-test/other:v1"}, "verify takes one CID or name"},
		{[]string{"pin"}, "pin needs a subcommand"},
		{[]string{"pin", "bogus"}, `pin has no subcommand "bogus"`},
		{[]string{"pin", "add"}, "pin add takes one CID"},
		{[]string{"pin", "rm", cid, cid}, "pin rm takes one CID"},
	}
	for _, c := range cases {
		res := r.fails(c.args...)
		if res.code != 1 {
			t.Errorf("%v: exit %d, want 1", c.args, res.code)
		}
		if len(res.stdout) != 0 {
			t.Errorf("%v: %d bytes on stdout: %.80q", c.args, len(res.stdout), res.stdout)
		}
		if lines := strings.Count(strings.TrimSpace(string(res.stderr)), "\n") + 1; lines != 1 || !bytes.Contains(res.stderr, []byte(c.says)) {
			t.Errorf("%v: stderr %q, want one line with %q", c.args, res.stderr, c.says)
		}
	}
	// Still pinned: none of those changed anything.
	if got := r.pinned(); len(got) != 1 || got[0] != cid {
		t.Errorf("pin ls = %v, want [%s]", got, cid)
	}
}
