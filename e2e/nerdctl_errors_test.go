package e2e

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// TestNerdctlWrongBytes: a nerdctl root is held together by nothing but its
// urls, so a url naming other bytes than its descriptor's digest must fail
// the pull with an error naming that digest, leave no output, and list
// nothing; the gateway must not serve the wrong bytes as the blob.
func TestNerdctlWrongBytes(t *testing.T) {
	k := newNerdctlKubo(t)
	kd := k.startDaemon()
	peer := []string{"--peer", kd.Addr, "--mdns=false", "--timeout", "2m"}
	src := helloLayout(t)
	good := toNerdctl(t, k, src, nil)
	d := digests(t, src)

	// The layer's url names a copy with one byte flipped: same size, so
	// only a digest check notices, and only once the layer streams.
	layer := digest.Digest(d.Layers[0].String())
	flipped := readFile(t, testimage.BlobPath(src, d.Layers[0]))
	flipped[len(flipped)/2] ^= 0xff
	badLayer := toNerdctl(t, k, src, map[digest.Digest]string{layer: kuboAddBytes(t, k, t.TempDir(), flipped)})

	// The top url names the source's own manifest: a real manifest of the
	// same image, but not the converted one the digest names. Caught when
	// the root is opened.
	manifest := good.Top.Digest
	original := kuboAddFile(t, k, testimage.BlobPath(src, d.Manifest))
	badManifest := toNerdctl(t, k, src, map[digest.Digest]string{manifest: original})

	for _, c := range []struct {
		name   string
		img    nerdctlImage
		wrong  digest.Digest
		isBlob bool
	}{
		{"layer", badLayer, layer, true},
		{"manifest", badManifest, manifest, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRepo(t)
			res := failedStreamingPull(t, r, append(peer, c.img.Root)...)
			t.Logf("pull's error: %s", bytes.TrimSpace(res.stderr))
			if !bytes.Contains(res.stderr, []byte(c.wrong.String())) {
				t.Errorf("pull of a root whose url for %s names other bytes: the error does not name the digest: %v", c.wrong, res)
			}
			if q := trimmedLines(r.ok("ls", "-q").stdout); slices.Contains(q, c.img.Root) {
				t.Errorf("ls -q lists %s after its pulls failed", c.img.Root)
			}

			gw := peerGateway(t, newRepo(t), kd.Addr)
			path := "/v2/ipfs/" + c.img.Root + "/manifests/latest"
			if c.isBlob {
				path = "/v2/ipfs/" + c.img.Root + "/blobs/" + c.wrong.String()
			}
			if body, ok := completeResponse(t, gw, path); ok {
				t.Errorf("gateway answered GET %s with 200 and a complete body of %d bytes (%s): it served bytes that are not %s",
					path, len(body), digest.FromBytes(body), c.wrong)
			}
		})
	}
}

// failedStreamingPull runs a pull that must fail in every output form. Files
// and directories must not appear. On stdout a pull cannot take back what it
// streamed before the blob's digest turned out wrong (README: blobs are
// verified as they stream), so what is checked there is what matters to the
// user: `imgp2p pull | docker load` fails and loads nothing. It returns the
// first failure.
func failedStreamingPull(t *testing.T, r *repo, args ...string) result {
	t.Helper()
	out := t.TempDir()
	first := r.fails(append([]string{"pull", "-o", filepath.Join(out, "img.tar")}, args...)...)
	r.fails(append([]string{"pull", "--format", "oci", "-o", filepath.Join(out, "layout")}, args...)...)
	r.fails(append([]string{"pull", "--format", "oci-archive", "-o", filepath.Join(out, "oci.tar")}, args...)...)
	emptyDir(t, out)
	if dockerReady() != nil && !inCI() {
		t.Logf("no docker daemon: not checking that `pull | docker load` loads nothing")
		return first
	}
	needDocker(t)
	tag := "imgp2p-e2e/nerdctl-wrong-bytes:v1"
	removeImageOnCleanup(t, tag)
	pull, load := r.pipeToDocker(append([]string{"pull", "--tag", tag}, args...)...)
	if pull.code == 0 || load.code == 0 {
		t.Errorf("imgp2p pull | docker load of a root with wrong bytes: want both to fail:\n%v\n%v", pull, load)
	}
	if m := loadedRE.FindSubmatch(load.stdout); m != nil {
		t.Errorf("docker loaded %s from a pull that failed", m[1])
	}
	return first
}

// completeResponse GETs path and reports whether the gateway answered 200
// with a body that arrived whole (Content-Length bytes and a clean end). A
// gateway that finds a blob corrupt while streaming it can only cut the
// connection; that, or an error status, is what ok == false means.
func completeResponse(t *testing.T, gw *gateway, path string) (body []byte, ok bool) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, gw.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := gw.client.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return body, err == nil && resp.StatusCode == http.StatusOK
}
