package e2e

import (
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/match"
)

// TestNamesPinRmReplaced: a rolling update under one name (push
// app:latest every day) leaves each version before pinned under its CID
// alone, since the name moves to the newest. `pin rm --replaced` unpins
// those, and only those: not the current version, not an image under
// another name, not one that never had a name, nor one whose name now
// names nothing pinned; through a daemon too. gc then collects them.
func TestNamesPinRmReplaced(t *testing.T) {
	r := newRepo(t)
	unnamedDir := randomLayout(t, 1, 811)
	unnameLayout(t, unnamedDir)
	unnamed := r.push(unnamedDir)
	hello := r.push(helloLayout(t))
	var versions []string
	for seed := uint64(812); seed < 815; seed++ {
		dir := randomLayout(t, 1, seed)
		nameLayout(t, dir, "imgp2p-test/app:latest")
		versions = append(versions, r.push(dir))
	}
	all := sorted(append([]string{unnamed, hello}, versions...)...)
	if got := r.pinned(); !slices.Equal(got, all) {
		t.Fatalf("pin ls after the pushes: %q", got)
	}
	if res := r.fails("pin", "rm", "--replaced", versions[0]); len(res.stdout) != 0 {
		t.Errorf("pin rm --replaced with a CID printed %q", res.stdout)
	}
	// Checked here: the pin rm --replaced below unpins versions[0] anyway.
	if got := r.pinned(); !slices.Equal(got, all) {
		t.Errorf("pin ls after a refused pin rm --replaced CID: %q, want %q", got, all)
	}

	r.startDaemon("--mdns=false")
	res := r.ok("pin", "rm", "--replaced")
	if got, want := trimmedLines(res.stdout), versions[:2]; !slices.Equal(got, want) {
		t.Errorf("pin rm --replaced printed %q, want the replaced versions %q", got, want)
	}
	current := versions[2]
	if got, want := r.pinned(), sorted(unnamed, hello, current); !slices.Equal(got, want) {
		t.Errorf("pin ls after pin rm --replaced: %q, want %q", got, want)
	}
	if res := r.ok("pin", "rm", "--replaced"); len(res.stdout) != 0 {
		t.Errorf("a second pin rm --replaced unpinned %q", res.stdout)
	}
	if r.gc() == 0 {
		t.Error("gc removed nothing after the old versions were unpinned")
	}
	if got, want := r.listed(), sorted(unnamed, hello, current); !slices.Equal(got, want) {
		t.Errorf("ls after gc: %q, want %q", got, want)
	}

	// A bad version unpinned by name: the one before, whose name now
	// names nothing pinned, is what to fall back to, and stays.
	bad := randomLayout(t, 1, 815)
	nameLayout(t, bad, "imgp2p-test/app:latest")
	r.push(bad)
	r.ok("pin", "rm", "imgp2p-test/app:latest")
	if res := r.ok("pin", "rm", "--replaced"); len(res.stdout) != 0 {
		t.Errorf("pin rm --replaced unpinned %q, the version before one that was unpinned", res.stdout)
	}
	if got, want := r.pinned(), sorted(unnamed, hello, current); !slices.Equal(got, want) {
		t.Errorf("pin ls after the rollback: %q, want %q", got, want)
	}
}

// unnameLayout drops the ref.name annotation of the layout's image: an
// image known by its CID alone.
func unnameLayout(t *testing.T, dir string) {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := topDescriptor(t, dir)
	d.Annotations = nil
	if err := p.RemoveDescriptors(match.Digests(d.Digest)); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendDescriptor(d); err != nil {
		t.Fatal(err)
	}
}
