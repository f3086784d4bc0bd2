package e2e

import (
	"strings"
	"testing"
)

// TestFlagsAfterArgumentsAreExplained: docker's, skopeo's and crane's
// parsers take flags after arguments; imgp2p's reads them only before, so
// `pull CID -o app.tar` failed with "pull takes one CID" to a user who had
// given one. The error now names the stray flag and where flags go, and
// nothing reaches stdout.
func TestFlagsAfterArgumentsAreExplained(t *testing.T) {
	r := newRepo(t)
	layout := helloLayout(t)
	cid := r.push(layout)
	for _, args := range [][]string{
		{"pull", cid, "-o", "app.tar"},
		{"push", layout, "--platform", "linux/amd64"},
		{"copy", cid, "docker://127.0.0.1:1/app:v1", "--platform", "linux/amd64"},
		{"providers", cid, "--limit", "5"},
	} {
		res := r.fails(args...)
		want := `"` + args[len(args)-2] + `" follows an argument`
		if len(res.stdout) != 0 || !strings.Contains(string(res.stderr), want) || !strings.Contains(string(res.stderr), "imgp2p "+args[0]+" [flags]") {
			t.Errorf("%v: %v, want an error saying %s and where flags go", args, res, want)
		}
	}
}
