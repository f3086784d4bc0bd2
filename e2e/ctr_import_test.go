package e2e

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// TestPullIntoContainerd is the air-gapped Kubernetes node's way in, with
// no gateway: k3s and kubeadm users load images with `ctr images import`.
// An oci-archive carries the pushed manifest, so containerd keeps its
// digest (what a pod spec pinned by digest asks for) and the name it was
// pushed with; a docker-archive carries no manifest, so containerd makes
// one, under the --tag given, and the image still runs.
func TestPullIntoContainerd(t *testing.T) {
	c := startContainerd(t)
	hello := helloLayout(t)
	d := digests(t, hello)
	r := newRepo(t)
	cid := r.push(hello)

	for _, tc := range []struct {
		pull        []string
		ref         string // the name ctr gives the imported image
		keepsDigest bool
	}{
		{pull: []string{"--format", "oci-archive"}, ref: "imgp2p-test/hello:v1", keepsDigest: true},
		{pull: []string{"--tag", "imgp2p-e2e/ctr:v1"}, ref: "docker.io/imgp2p-e2e/ctr:v1"},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
			defer cancel()
			argv := c.argv("images", "import", "--snapshotter", "native", "-")
			pull, imp := pipeline(r.command(ctx, append(append([]string{"pull"}, tc.pull...), cid)...),
				exec.CommandContext(ctx, argv[0], argv[1:]...))
			if pull.code != 0 || imp.code != 0 {
				t.Fatalf("imgp2p pull %v | ctr images import -:\n%v\n%v", tc.pull, pull, imp)
			}

			var digest string
			listing := runIn(t, onHost, c.argv("images", "ls")...).stdout
			for _, line := range trimmedLines(listing) {
				if f := strings.Fields(line); len(f) > 2 && f[0] == tc.ref {
					digest = f[2]
				}
			}
			if digest == "" {
				t.Fatalf("ctr images ls does not list %s after the import:\n%s", tc.ref, listing)
			}
			if tc.keepsDigest && digest != d.Manifest.String() {
				t.Errorf("ctr imported %s with digest %s, want the pushed manifest's %s", tc.ref, digest, d.Manifest)
			}
			check := runIn(t, onHost, c.argv("images", "check")...).stdout
			if !slices.ContainsFunc(trimmedLines(check), func(line string) bool {
				f := strings.Fields(line)
				return len(f) > 3 && f[0] == tc.ref && f[3] == "complete"
			}) {
				t.Errorf("ctr images check does not find %s complete:\n%s", tc.ref, check)
			}
			container := "imgp2p-ctr-import-" + strings.NewReplacer("/", "-", ":", "-", ".", "-").Replace(tc.ref)
			out := runIn(t, onHost, c.argv("run", "--rm", "--snapshotter", "native", tc.ref, container)...).stdout
			if string(out) != testimage.HelloLine+"\n" {
				t.Errorf("ctr run %s printed %q, want %q", tc.ref, out, testimage.HelloLine+"\n")
			}
		})
	}
}
