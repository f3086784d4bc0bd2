package e2e

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestNerdctlPushMatchesConverter: `imgp2p push --format nerdctl` of a
// layout gives, to the CID, the root the test's own conversion through Kubo
// gives — what nerdctl would print for the same image. Skipped while the
// binary has no --format nerdctl.
func TestNerdctlPushMatchesConverter(t *testing.T) {
	k := newNerdctlKubo(t)
	probe := newRepo(t).run(nil, "push", "--help")
	if !bytes.Contains(probe.stdout, []byte("nerdctl")) {
		t.Skipf("this imgp2p has no `push --format nerdctl` yet: %v", probe)
	}
	for _, tc := range nerdctlCases() {
		t.Run(tc.name, func(t *testing.T) {
			k := k.forTest(t)
			src := tc.layout(t)
			want := toNerdctl(t, k, src, nil)
			r := newRepo(t)
			res := r.ok("push", "--format", "nerdctl", src)
			got := strings.TrimSpace(string(res.stdout))
			if got == want.Root {
				return
			}
			// Say where they part: read imgp2p's root back offline and list
			// the blobs (converted manifests and indexes included) that only
			// one side has.
			out := filepath.Join(t.TempDir(), "imgp2p")
			r.ok("pull", "--offline", "--format", "oci", "-o", out, got)
			var mine []string
			for d := range want.Files {
				mine = append(mine, d.String())
			}
			theirs := blobFiles(t, out)
			var onlyWant, onlyGot []string
			for _, d := range mine {
				if !slices.Contains(theirs, d) {
					onlyWant = append(onlyWant, d)
				}
			}
			for _, d := range theirs {
				if !slices.Contains(mine, d) {
					onlyGot = append(onlyGot, d)
				}
			}
			t.Errorf("push --format nerdctl printed %s; nerdctl's conversion (through Kubo) gives %s\n"+
				"want top descriptor %s\nblobs only in the conversion: %v\nblobs only in imgp2p's root: %v",
				got, want.Root, mustJSON(t, want.Top), onlyWant, onlyGot)
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
