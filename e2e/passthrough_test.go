package e2e

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// TestPassThrough (issue 5): an encrypted layer and an eStargz layer, with
// their media types and annotations, come out of every path byte for byte —
// every blob, the manifest and so its digest: push → pull --format oci
// (locally and from a peer), push → gateway (HTTP and crane, and the range
// reads a lazy eStargz puller makes), push → copy to a registry → push back
// from it.
func TestPassThrough(t *testing.T) {
	for _, f := range []struct {
		name  string
		build func(*testing.T) passFixture
	}{
		{"encrypted", encryptedFixture},
		{"estargz", estargzFixture},
	} {
		t.Run(f.name, func(t *testing.T) {
			fx := f.build(t)
			t.Logf("special layer: %s, %d bytes, %s, annotations %v", fx.layer.Digest, fx.layer.Size, fx.layer.MediaType, fx.layer.Annotations)
			a := newRepo(t)
			cid := a.push(fx.dir)
			da := a.startDaemon("--mdns=false")

			t.Run("pull", func(t *testing.T) {
				local := filepath.Join(t.TempDir(), "local")
				a.forTest(t).ok("pull", "--format", "oci", "-o", local, cid)
				samePassThrough(t, local, fx)

				remote := filepath.Join(t.TempDir(), "remote")
				newRepo(t).ok("pull", "--format", "oci", "--peer", da.Addr, "--mdns=false", "--timeout", "2m", "-o", remote, cid)
				samePassThrough(t, remote, fx)
			})

			t.Run("gateway", func(t *testing.T) {
				gw := peerGateway(t, newRepo(t), da.Addr)
				checkPassThroughGateway(t, gw, cid, fx)
			})

			t.Run("copy", func(t *testing.T) {
				a := a.forTest(t)
				if res := a.run(nil, "copy", "--help"); res.code != 0 || !bytes.Contains(res.stdout, []byte("docker://")) {
					t.Skipf("this imgp2p has no `copy CID docker://HOST/REPO:TAG` command yet: %v", res)
				}
				checkPassThroughCopy(t, a, cid, "passthrough-"+f.name, fx)
			})
		})
	}
}

// samePassThrough: the layout at out is the fixture's, byte for byte
// (index.json and every blob), so the manifest digest is unchanged; the
// special layer's descriptor is spelled out too, for a readable failure.
func samePassThrough(t *testing.T, out string, fx passFixture) {
	t.Helper()
	sameLayout(t, out, fx.dir)
	want := digests(t, fx.dir).Manifest
	got := digests(t, out).Manifest
	if got != want {
		t.Fatalf("manifest digest %s, want %s", got, want)
	}
	checkSpecialLayer(t, "pulled manifest", manifestOf(t, out, got), fx)
}

// checkSpecialLayer finds the fixture's special layer in m and compares its
// media type and annotations.
func checkSpecialLayer(t *testing.T, what string, m *v1.Manifest, fx passFixture) {
	t.Helper()
	for _, l := range m.Layers {
		if l.Digest != fx.layer.Digest {
			continue
		}
		if l.MediaType != fx.layer.MediaType || l.Size != fx.layer.Size || !maps.Equal(l.Annotations, fx.layer.Annotations) {
			t.Errorf("%s: layer %s is\n%+v\nwant\n%+v", what, l.Digest, l, fx.layer)
		}
		return
	}
	t.Errorf("%s has no layer %s", what, fx.layer.Digest)
}

// checkPassThroughGateway: the gateway serves the manifest (latest and by
// digest) and every blob byte for byte, crane pulls the image with the same
// digests, and for eStargz the two range reads a lazy puller starts with —
// the footer, then the TOC it points at — return exactly those bytes.
func checkPassThroughGateway(t *testing.T, gw *gateway, cid string, fx passFixture) {
	t.Helper()
	d := digests(t, fx.dir)
	manifest := readFile(t, testimage.BlobPath(fx.dir, d.Manifest))
	base := "/v2/ipfs/" + cid
	for _, path := range []string{base + "/manifests/latest", base + "/manifests/" + d.Manifest.String()} {
		resp, body := gw.do(t, http.MethodGet, path, nil)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, manifest) {
			t.Errorf("GET %s: %s, %d bytes (%s); want the manifest %s byte for byte", path, resp.Status, len(body), sha256Digest(body), d.Manifest)
			continue
		}
		wantHeader(t, path, resp, "Content-Type", string(types.OCIManifestSchema1))
		wantHeader(t, path, resp, "Docker-Content-Digest", d.Manifest.String())
	}
	for _, h := range append([]v1.Hash{d.Config}, d.Layers...) {
		if got := gw.get(t, base+"/blobs/"+h.String()); !bytes.Equal(got, readFile(t, testimage.BlobPath(fx.dir, h))) {
			t.Errorf("GET blob %s: %d bytes (%s), want the blob byte for byte", h, len(got), sha256Digest(got))
		}
	}

	if e := fx.esgz; e != nil {
		blob := readFile(t, testimage.BlobPath(fx.dir, fx.layer.Digest))
		if int64(len(blob)) != e.Size {
			t.Fatalf("eStargz blob in the layout is %d bytes, the builder wrote %d", len(blob), e.Size)
		}
		for _, r := range []struct {
			what       string
			start, end int64 // inclusive, as in a Range header
		}{
			{"footer", e.Size - e.FooterSize, e.Size - 1},
			{"TOC", e.TOCOffset, e.Size - e.FooterSize - 1},
		} {
			hdr := http.Header{"Range": {fmt.Sprintf("bytes=%d-%d", r.start, r.end)}}
			resp, body := gw.do(t, http.MethodGet, base+"/blobs/"+fx.layer.Digest.String(), hdr)
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, blob[r.start:r.end+1]) {
				t.Errorf("eStargz %s (Range %s): %s, %d bytes; want 206 and the %d bytes at %d",
					r.what, hdr.Get("Range"), resp.Status, len(body), r.end-r.start+1, r.start)
			}
		}
	}

	crane, err := lookTool("crane")
	need(t, "crane (go install github.com/google/go-containerregistry/cmd/crane@v0.22.1)", err)
	ref := gw.Ref(cid)
	if got := runIn(t, gw.ns, crane, "manifest", ref).stdout; !bytes.Equal(got, manifest) {
		t.Errorf("crane manifest %s: %s, want %s byte for byte", ref, sha256Digest(got), d.Manifest)
	}
	out := filepath.Join(t.TempDir(), "crane")
	runIn(t, gw.ns, crane, "pull", "--format", "oci", ref, out)
	sameBlobs(t, out, fx.dir)
	if got := digests(t, out).Manifest; got != d.Manifest {
		t.Errorf("crane pulled manifest %s, want %s", got, d.Manifest)
	}
}

// checkPassThroughCopy: `imgp2p copy` puts the image in a registry under
// the same manifest digest, with every blob byte for byte, and the registry
// as a source gives the same image back.
func checkPassThroughCopy(t *testing.T, a *repo, cid, name string, fx passFixture) {
	t.Helper()
	reg := startRegistry(t)
	d := digests(t, fx.dir)
	repoName := reg.Host + "/" + name
	ref := repoName + ":v1"
	res := a.ok("copy", cid, "docker://"+ref)
	if got, want := string(res.stdout), repoName+"@"+d.Manifest.String()+"\n"; got != want {
		t.Errorf("copy printed %q, want %q", got, want)
	}
	if got := strings.TrimSpace(string(reg.crane(t, "digest", ref))); got != d.Manifest.String() {
		t.Errorf("crane digest %s = %s, want %s", ref, got, d.Manifest)
	}
	if got := reg.crane(t, "manifest", ref); !bytes.Equal(got, readFile(t, testimage.BlobPath(fx.dir, d.Manifest))) {
		t.Errorf("crane manifest %s: %s, want %s byte for byte", ref, sha256Digest(got), d.Manifest)
	}
	for _, h := range append([]v1.Hash{d.Config}, d.Layers...) {
		if got := reg.crane(t, "blob", repoName+"@"+h.String()); !bytes.Equal(got, readFile(t, testimage.BlobPath(fx.dir, h))) {
			t.Errorf("crane blob %s@%s: %d bytes (%s), want the blob byte for byte", repoName, h, len(got), sha256Digest(got))
		}
	}

	// Back again, with the registry as the source.
	b := newRepo(t)
	back := b.push("docker://" + ref)
	out := filepath.Join(t.TempDir(), "back")
	b.ok("pull", "--offline", "--format", "oci", "-o", out, back)
	sameBlobs(t, out, fx.dir)
	if got := digests(t, out).Manifest; got != d.Manifest {
		t.Errorf("push docker://%s then pull: manifest %s, want %s", ref, got, d.Manifest)
	}
	checkSpecialLayer(t, "manifest pushed back from the registry", manifestOf(t, out, d.Manifest), fx)
}

// sameBlobs fails unless the layouts got and want hold the same blob files,
// byte for byte (their index.json may name the image differently).
func sameBlobs(t *testing.T, got, want string) {
	t.Helper()
	gb, wb := blobFiles(t, got), blobFiles(t, want)
	if !slices.Equal(gb, wb) {
		t.Fatalf("blobs differ:\ngot  %v\nwant %v", gb, wb)
	}
	for _, b := range wb {
		h, _ := v1.NewHash(b)
		if !bytes.Equal(readFile(t, testimage.BlobPath(got, h)), readFile(t, testimage.BlobPath(want, h))) {
			t.Errorf("blob %s differs", b)
		}
	}
}
