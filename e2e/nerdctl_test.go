package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// Issue 5: imgp2p reads the roots nerdctl (`nerdctl push ipfs://…`) writes.
// The roots are made by the test with Kubo (nerdctl_convert_test.go) and
// served only by Kubo; imgp2p pulls them, lists them and serves them through
// its gateway.

// nerdctlVector is the descriptor of stargz-snapshotter's docs/ipfs.md
// example, as nerdctl marshals it, and the root CID the docs give for it.
const (
	nerdctlVector    = `{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:80d6aec48c0a74635a5f3dc106328c1673afaa21ed6e1270a9a44de66e8ffa55","size":314,"urls":["ipfs://bafkreiea22xmjdakorrvuxz5yeddfdawoox2uipnnyjhbknejxtg5d72ku"]}`
	nerdctlVectorCID = "bafkreie7754qk7fl56ebauawdgfuqqa3kdd7sotvuhsm6wbz3qin6ssw3a"
)

type nerdctlCase struct {
	name   string
	layout func(testing.TB) string
	runs   bool // docker runs it (hello images)
	serve  bool // checked through the gateway too
}

func nerdctlCases() []nerdctlCase {
	cases := []nerdctlCase{
		{name: "hello", layout: helloLayout, runs: true, serve: true},
		// Docker media types throughout: the converter makes them OCI.
		{name: "hello-docker", layout: dockerHelloLayout, runs: true, serve: true},
		// A nested two-platform index.
		{name: "multi", layout: multiLayout, runs: true, serve: true},
	}
	if !testing.Short() {
		// 48 MiB: 192 chunks of 256 KiB, more than the 174 one node may
		// link, so the layer's file DAG has two levels.
		cases = append(cases, nerdctlCase{name: "random-48MiB",
			layout: func(t testing.TB) string { return randomLayout(t, 48, 11) }})
	}
	return cases
}

func TestNerdctlRoots(t *testing.T) {
	k := newNerdctlKubo(t)
	kd := k.startDaemon()
	peer := []string{"--peer", kd.Addr, "--mdns=false", "--timeout", "2m"}

	// The format's own test vector, through image-spec's struct and Kubo.
	t.Run("test-vector", func(t *testing.T) {
		k := k.forTest(t)
		d := ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageIndex,
			Digest:    "sha256:80d6aec48c0a74635a5f3dc106328c1673afaa21ed6e1270a9a44de66e8ffa55",
			Size:      314,
			URLs:      []string{"ipfs://bafkreiea22xmjdakorrvuxz5yeddfdawoox2uipnnyjhbknejxtg5d72ku"},
		}
		raw, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if string(raw) != nerdctlVector {
			t.Fatalf("json.Marshal of the descriptor gives\n%s\nwant\n%s", raw, nerdctlVector)
		}
		if got := kuboAddBytes(t, k, t.TempDir(), raw); got != nerdctlVectorCID {
			t.Errorf("ipfs add --cid-version=1 of the test vector gives %s, want %s", got, nerdctlVectorCID)
		}
	})

	for _, tc := range nerdctlCases() {
		t.Run(tc.name, func(t *testing.T) {
			k := k.forTest(t)
			src := tc.layout(t)
			img := toNerdctl(t, k, src, nil)
			checkNerdctlFixture(t, k, img)
			r := newRepo(t) // empty: everything comes from Kubo

			t.Run("oci", func(t *testing.T) {
				r := r.forTest(t)
				out := filepath.Join(t.TempDir(), "oci")
				res := r.run(nil, append(append([]string{"pull", "--format", "oci", "-o", out}, peer...), img.Root)...)
				if res.code != 0 {
					t.Fatalf("pull --format oci of nerdctl root %s: %v%s", img.Root, res, k.daemonLog())
				}
				fetchedFromKubo(t, res, kd.ID)
				checkNerdctlLayout(t, out, img)
			})

			t.Run("ls", func(t *testing.T) {
				r := r.forTest(t)
				if q := trimmedLines(r.ok("ls", "-q").stdout); !slices.Contains(q, img.Root) {
					t.Errorf("ls -q after pulling %s lists %q", img.Root, q)
				}
				if ls := r.ok("ls").stdout; !bytes.Contains(ls, []byte(img.Root)) {
					t.Errorf("ls after pulling %s:\n%s", img.Root, ls)
				}
			})

			if tc.runs {
				t.Run("docker", func(t *testing.T) {
					needDocker(t)
					r := r.forTest(t)
					pull, load := r.pipeToDocker(append(append([]string{"pull"}, peer...), img.Root)...)
					if pull.code != 0 || load.code != 0 {
						t.Fatalf("imgp2p pull --peer <kubo> %s | docker load:\n%v\n%v%s", img.Root, pull, load, k.daemonLog())
					}
					ref := loadedImage(t, load)
					removeImageOnCleanup(t, ref)
					// No ref.name on a nerdctl root: README's fallback name.
					if want := "localhost:5050/ipfs/" + img.Root + ":latest"; ref != want {
						t.Errorf("docker loaded %q, want %q", ref, want)
					}
					if got, want := imageID(t, ref), hostConfig(t, src); got != want {
						t.Errorf("loaded image ID %s, want the config digest %s", got, want)
					}
					runHello(t, ref)
				})
			}

			if tc.serve {
				t.Run("gateway", func(t *testing.T) {
					gw := peerGateway(t, newRepo(t), kd.Addr)
					checkNerdctlGateway(t, gw, img)
				})
			}
		})
	}
}

// checkNerdctlFixture checks the test's own conversion before imgp2p sees
// it, so that a failure below is imgp2p's: blobs chunked as nerdctl's Kubo
// chunks them, only OCI media types, and the url of every descriptor naming
// what Kubo gave that blob.
func checkNerdctlFixture(t *testing.T, k *kubo, img nerdctlImage) {
	t.Helper()
	for d, path := range img.Files {
		if _, meta := img.Metadata[d]; !meta {
			checkNerdctlChunking(t, k, path, img.CIDs[d])
		}
	}
	want := func(where string, d ocispec.Descriptor) {
		if strings.Contains(d.MediaType, "vnd.docker") {
			t.Errorf("%s: descriptor of %s keeps the Docker media type %s", where, d.Digest, d.MediaType)
		}
		if len(d.URLs) != 1 || d.URLs[0] != "ipfs://"+img.CIDs[d.Digest] {
			t.Errorf("%s: descriptor of %s has urls %q, want [ipfs://%s]", where, d.Digest, d.URLs, img.CIDs[d.Digest])
		}
	}
	want("root", img.Top)
	for d, mt := range img.Metadata {
		raw := readFile(t, img.Files[d])
		if bytes.HasSuffix(raw, []byte("\n")) {
			t.Errorf("converted %s ends in a newline; json.Marshal writes none", d)
		}
		var m struct {
			MediaType string               `json:"mediaType"`
			Config    *ocispec.Descriptor  `json:"config"`
			Layers    []ocispec.Descriptor `json:"layers"`
			Manifests []ocispec.Descriptor `json:"manifests"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		if m.MediaType != mt {
			t.Errorf("converted %s has mediaType %q, want %q", d, m.MediaType, mt)
		}
		if m.Config != nil {
			want(d.String(), *m.Config)
		}
		for _, c := range append(m.Layers, m.Manifests...) {
			want(d.String(), c)
		}
	}
}

// checkNerdctlLayout: the OCI layout pull wrote holds exactly the blobs the
// nerdctl root reaches, byte for byte (configs and layers as the source had
// them, manifests and indexes as converted); its index.json names the top
// descriptor; go-containerregistry reads every image and verifies each
// blob.
func checkNerdctlLayout(t *testing.T, out string, img nerdctlImage) {
	t.Helper()
	checkBlobSet(t, out, img)
	idx, err := layout.ImageIndexFromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 || m.Manifests[0].Digest.String() != img.Top.Digest.String() ||
		string(m.Manifests[0].MediaType) != img.Top.MediaType {
		t.Errorf("index.json lists %+v, want the one top descriptor %s (%s)", m.Manifests, img.Top.Digest, img.Top.MediaType)
	}
	validLayout(t, out)
}

// checkBlobSet fails unless the layout at dir holds exactly img's blobs,
// each byte for byte.
func checkBlobSet(t *testing.T, dir string, img nerdctlImage) {
	t.Helper()
	var want []string
	for d := range img.Files {
		want = append(want, d.String())
	}
	slices.Sort(want)
	if got := blobFiles(t, dir); !slices.Equal(got, want) {
		t.Fatalf("%s holds blobs\n%v\nwant\n%v", dir, got, want)
	}
	for d, path := range img.Files {
		sameBytes(t, "blob "+d.String(), filepath.Join(dir, "blobs", "sha256", d.Encoded()), path)
	}
}

// checkNerdctlGateway: the gateway serves a nerdctl root like any other:
// latest is the converted top manifest or index with its media type and
// digest, every manifest and blob comes out byte for byte, and crane reads
// the whole image.
func checkNerdctlGateway(t *testing.T, gw *gateway, img nerdctlImage) {
	t.Helper()
	base := "/v2/ipfs/" + img.Root
	resp, body := gw.do(t, http.MethodGet, base+"/manifests/latest", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/manifests/latest: %s\n%.2000s", base, resp.Status, body)
	}
	if !bytes.Equal(body, readFile(t, img.Files[img.Top.Digest])) {
		t.Errorf("manifests/latest is %s, want the converted %s byte for byte", digest.FromBytes(body), img.Top.Digest)
	}
	wantHeader(t, "manifests/latest", resp, "Content-Type", img.Top.MediaType)
	wantHeader(t, "manifests/latest", resp, "Docker-Content-Digest", img.Top.Digest.String())
	for d, path := range img.Files {
		kind := "/blobs/"
		if _, meta := img.Metadata[d]; meta {
			kind = "/manifests/"
		}
		if got := gw.get(t, base+kind+d.String()); !bytes.Equal(got, readFile(t, path)) {
			t.Errorf("GET %s%s%s: %d bytes (%s), want the blob byte for byte", base, kind, d, len(got), digest.FromBytes(got))
		}
	}

	crane, err := lookTool("crane")
	need(t, "crane (go install github.com/google/go-containerregistry/cmd/crane@v0.22.1)", err)
	ref := gw.Ref(img.Root)
	if got := runIn(t, gw.ns, crane, "manifest", ref).stdout; !bytes.Equal(got, readFile(t, img.Files[img.Top.Digest])) {
		t.Errorf("crane manifest %s printed %s, want the converted %s", ref, digest.FromBytes(got), img.Top.Digest)
	}
	out := filepath.Join(t.TempDir(), "crane")
	runIn(t, gw.ns, crane, "pull", "--format", "oci", ref, out)
	checkBlobSet(t, out, img)
}

// hostConfig is the config digest (docker's image ID) of the image for the
// host's platform in the layout at dir.
func hostConfig(t *testing.T, dir string) string {
	t.Helper()
	for _, img := range walkLayout(t, dir).images {
		if configArch(t, img) == "linux/"+runtime.GOARCH {
			h, err := img.ConfigName()
			if err != nil {
				t.Fatal(err)
			}
			return h.String()
		}
	}
	t.Fatalf("layout %s has no image for linux/%s", dir, runtime.GOARCH)
	return ""
}

// dockerHelloLayout is the hello image with Docker media types for the
// manifest, config and layer, as `docker push` writes them. The layer and
// config bytes are the OCI hello's.
func dockerHelloLayout(t testing.TB) string {
	t.Helper()
	hello, err := testimage.HelloImage(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := hello.Layers()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := hello.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	img := mutate.MediaType(empty.Image, types.DockerManifestSchema2)
	img = mutate.ConfigMediaType(img, types.DockerConfigJSON)
	if img, err = mutate.Append(img, mutate.Addendum{Layer: layers[0], MediaType: types.DockerLayer}); err != nil {
		t.Fatal(err)
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "hello-docker")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{
		testimage.RefNameAnnotation: "imgp2p-test/hello-docker:v1",
	})); err != nil {
		t.Fatal(err)
	}
	if m := readFile(t, filepath.Join(dir, "index.json")); !bytes.Contains(m, []byte(types.DockerManifestSchema2)) {
		t.Fatalf("dockerHelloLayout wrote no Docker manifest: %s", m)
	}
	return dir
}
