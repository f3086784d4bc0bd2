package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// Real OCI clients pulling through a gateway that starts with an empty repo
// and fetches everything from a peer daemon: what a client sees on a
// machine that never had the image. Each client runs in the gateway's
// namespace (gateway_harness_test.go).

// peerServed pushes layout into a daemon's repo and returns a fresh gateway
// that holds nothing and has that daemon as its peer, with the root's CID.
func peerServed(t *testing.T, layout string) (*gateway, string) {
	t.Helper()
	a := newRepo(t)
	da := a.startDaemon("--mdns=false")
	cid := a.push(layout)
	return peerGateway(t, newRepo(t), da.Addr), cid
}

func TestGatewayCrane(t *testing.T) {
	crane, err := lookTool("crane")
	need(t, "crane (go install github.com/google/go-containerregistry/cmd/crane@v0.22.1)", err)
	hello := helloLayout(t)
	d := digests(t, hello)
	gw, cid := peerServed(t, hello)
	ref := gw.Ref(cid)

	if got := runIn(t, gw.ns, crane, "manifest", ref).stdout; !bytes.Equal(got, readFile(t, testimage.BlobPath(hello, d.Manifest))) {
		t.Errorf("crane manifest %s printed\n%s\nwant the stored manifest byte for byte", ref, got)
	}
	if got := strings.TrimSpace(string(runIn(t, gw.ns, crane, "digest", ref+":v1").stdout)); got != d.Manifest.String() {
		t.Errorf("crane digest %s:v1 = %s, want %s", ref, got, d.Manifest)
	}
	if got := trimmedLines(runIn(t, gw.ns, crane, "ls", ref).stdout); !slices.Equal(got, []string{"latest", "v1"}) {
		t.Errorf("crane ls %s = %q, want [latest v1]", ref, got)
	}
	if got := runIn(t, gw.ns, crane, "config", ref).stdout; !bytes.Equal(got, readFile(t, testimage.BlobPath(hello, d.Config))) {
		t.Errorf("crane config %s differs from the stored config:\n%s", ref, got)
	}
	layer := readFile(t, testimage.BlobPath(hello, d.Layers[0]))
	if got := runIn(t, gw.ns, crane, "blob", ref+"@"+d.Layers[0].String()).stdout; !bytes.Equal(got, layer) {
		t.Errorf("crane blob: %d bytes differing from the stored layer's %d", len(got), len(layer))
	}

	out := filepath.Join(t.TempDir(), "pulled")
	runIn(t, gw.ns, crane, "pull", "--format", "oci", ref, out)
	if got := digests(t, out); got.Manifest != d.Manifest || got.Config != d.Config {
		t.Errorf("crane pull wrote manifest %s config %s, want %s and %s", got.Manifest, got.Config, d.Manifest, d.Config)
	}
	if !bytes.Equal(readFile(t, testimage.BlobPath(out, d.Layers[0])), layer) {
		t.Errorf("crane pull wrote a layer differing from the stored one")
	}
}

func TestGatewaySkopeo(t *testing.T) {
	need(t, "skopeo", skopeoReady())
	// A policy of the test's own: the host's /etc/containers may say
	// anything, or be absent.
	policy := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(policy, []byte(`{"default":[{"type":"insecureAcceptAnything"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	skopeoIn := func(t *testing.T, gw *gateway, args ...string) result {
		t.Helper()
		return runIn(t, gw.ns, append([]string{"skopeo", "--policy", policy}, args...)...)
	}

	t.Run("single", func(t *testing.T) {
		hello := helloLayout(t)
		d := digests(t, hello)
		gw, cid := peerServed(t, hello)
		ref := "docker://" + gw.Ref(cid)

		var info struct{ Digest string }
		if err := json.Unmarshal(skopeoIn(t, gw, "inspect", "--tls-verify=false", ref).stdout, &info); err != nil {
			t.Fatal(err)
		}
		if info.Digest != d.Manifest.String() {
			t.Errorf("skopeo inspect %s: digest %s, want %s", ref, info.Digest, d.Manifest)
		}
		var tags struct{ Tags []string }
		if err := json.Unmarshal(skopeoIn(t, gw, "list-tags", "--tls-verify=false", ref).stdout, &tags); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tags.Tags, []string{"latest", "v1"}) {
			t.Errorf("skopeo list-tags %s = %v, want [latest v1]", ref, tags.Tags)
		}

		out := filepath.Join(t.TempDir(), "copied")
		skopeoIn(t, gw, "copy", "--src-tls-verify=false", ref, "oci:"+out+":v1")
		if got := inspectDigest(t, "oci:"+out+":v1"); got != d.Manifest.String() {
			t.Errorf("skopeo copy wrote manifest %s, want %s", got, d.Manifest)
		}
		for _, h := range append(d.Layers, d.Config) {
			if !bytes.Equal(readFile(t, testimage.BlobPath(out, h)), readFile(t, testimage.BlobPath(hello, h))) {
				t.Errorf("skopeo copy: blob %s differs from the stored one", h)
			}
		}
	})

	t.Run("all-platforms", func(t *testing.T) {
		multi := multiLayout(t)
		index, _ := hostPlatformImage(t, multi)
		gw, cid := peerServed(t, multi)
		// latest is the root's nested index, byte for byte.
		resp, body := gw.do(t, "GET", "/v2/ipfs/"+cid+"/manifests/latest", nil)
		if got := sha256Digest(body); resp.StatusCode != 200 || got != index.String() {
			t.Errorf("manifests/latest of the multi-platform root: %s, digest %s, want the index %s", resp.Status, got, index)
		}
		wantHeader(t, "manifests/latest", resp, "Content-Type", string(types.OCIImageIndex))
		out := filepath.Join(t.TempDir(), "copied")
		skopeoIn(t, gw, "copy", "--all", "--src-tls-verify=false", "docker://"+gw.Ref(cid), "oci:"+out+":v1")
		// skopeo 1.9 rewrites the index (it drops the descriptors'
		// artifactType, which it does not know), so compare what it lists:
		// the same manifests, by digest.
		var want, got v1.IndexManifest
		if err := json.Unmarshal(body, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(skopeo(t, "inspect", "--raw", "oci:"+out+":v1").stdout, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Manifests) != len(want.Manifests) {
			t.Fatalf("skopeo copy --all wrote %d manifests, the root's index has %d", len(got.Manifests), len(want.Manifests))
		}
		for i := range want.Manifests {
			if got.Manifests[i].Digest != want.Manifests[i].Digest {
				t.Errorf("skopeo copy --all: manifest %d is %s, want %s", i, got.Manifests[i].Digest, want.Manifests[i].Digest)
			}
		}
		// Every platform's blobs came through whole: ggcr's validator
		// checks each one against its digest.
		copied, err := layout.ImageIndexFromPath(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Index(copied); err != nil {
			t.Errorf("the layout skopeo copied through the gateway: %v", err)
		}
	})
}

func TestGatewayContainerd(t *testing.T) {
	c := startContainerd(t)
	hello := helloLayout(t)
	d := digests(t, hello)
	gw, cid := peerServed(t, hello)
	ref := gw.Ref(cid) + ":latest" // ctr wants the tag spelt out

	runIn(t, gw.ns, c.argv("images", "pull", "--plain-http", "--snapshotter", "native", ref)...)
	listed := false
	for _, line := range trimmedLines(runIn(t, onHost, c.argv("images", "ls")...).stdout) {
		if f := strings.Fields(line); len(f) > 2 && f[0] == ref {
			listed = true
			if f[2] != d.Manifest.String() {
				t.Errorf("ctr images ls: %s has digest %s, want %s", ref, f[2], d.Manifest)
			}
		}
	}
	if !listed {
		t.Fatalf("ctr images ls does not list %s", ref)
	}
	// Every blob is in containerd's content store (which checked each
	// against its digest on the way in).
	check := runIn(t, onHost, c.argv("images", "check")...).stdout
	if !slices.ContainsFunc(trimmedLines(check), func(line string) bool {
		f := strings.Fields(line)
		return len(f) > 3 && f[0] == ref && f[3] == "complete"
	}) {
		t.Errorf("ctr images check does not find %s complete:\n%s", ref, check)
	}
	out := runIn(t, onHost, c.argv("run", "--rm", "--snapshotter", "native", ref, "imgp2p-gateway-hello")...).stdout
	if string(out) != testimage.HelloLine+"\n" {
		t.Errorf("ctr run %s printed %q, want %q", ref, out, testimage.HelloLine+"\n")
	}
}
