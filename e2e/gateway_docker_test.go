package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// dockerd pulls from the gateway itself, so these gateways serve offline on
// the host's loopback (gateway_harness_test.go says why that is safe).

// dockerImage is what `docker image inspect` says of one image.
type dockerImage struct {
	ID           string   `json:"Id"`
	RepoDigests  []string `json:"RepoDigests"`
	Os           string   `json:"Os"`
	Architecture string   `json:"Architecture"`
	Config       struct {
		Labels map[string]string `json:"Labels"`
	} `json:"Config"`
	RootFS struct {
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

func dockerInspect(t *testing.T, ref string) dockerImage {
	t.Helper()
	var imgs []dockerImage
	out := docker(t, nil, "image", "inspect", ref).stdout
	if err := json.Unmarshal(out, &imgs); err != nil || len(imgs) != 1 {
		t.Fatalf("docker image inspect %s: %v\n%s", ref, err, out)
	}
	return imgs[0]
}

// TestGatewayDockerPull: docker pull ipfs/<CID> by its latest tag, its
// ref-name tag and its digest, then run it.
func TestGatewayDockerPull(t *testing.T) {
	needDocker(t)
	r := newRepo(t)
	hello := helloLayout(t)
	d := digests(t, hello)
	cid := r.push(hello)
	gw := offlineGateway(t, r, onHost)
	ref := gw.Ref(cid)
	removeImageOnCleanup(t, d.Config.String()) // every tag and digest ref of it

	docker(t, nil, "pull", ref)
	img := dockerInspect(t, ref)
	// docker's image ID is the config digest: the image arrived unchanged.
	if img.ID != d.Config.String() {
		t.Errorf("pulled image ID %s, want the config digest %s", img.ID, d.Config)
	}
	if want := ref + "@" + d.Manifest.String(); !slices.Contains(img.RepoDigests, want) {
		t.Errorf("RepoDigests %v lack %s: docker saw another manifest", img.RepoDigests, want)
	}
	runHello(t, ref)

	for _, other := range []string{ref + ":v1", ref + "@" + d.Manifest.String()} {
		docker(t, nil, "pull", other)
		if id := imageID(t, other); id != d.Config.String() {
			t.Errorf("docker pull %s gave image %s, want %s", other, id, d.Config)
		}
	}
	gw.onlyGatewaySockets(t)
}

// TestGatewayDockerMultiPlatform: the root holds an index of two
// platforms; docker pulls latest (the index) and picks the host's.
func TestGatewayDockerMultiPlatform(t *testing.T) {
	needDocker(t)
	r := newRepo(t)
	multi := multiLayout(t)
	index, config := hostPlatformImage(t, multi)
	cid := r.push(multi)
	gw := offlineGateway(t, r, onHost)
	ref := gw.Ref(cid)
	removeImageOnCleanup(t, config.String())

	docker(t, nil, "pull", ref)
	img := dockerInspect(t, ref)
	if img.Os != "linux" || img.Architecture != runtime.GOARCH {
		t.Errorf("docker pulled %s/%s, want linux/%s", img.Os, img.Architecture, runtime.GOARCH)
	}
	if img.ID != config.String() {
		t.Errorf("pulled image ID %s, want linux/%s's config %s", img.ID, runtime.GOARCH, config)
	}
	// The digest docker records for the ref is the index's: it got the
	// index and chose from it.
	if want := ref + "@" + index.String(); !slices.Contains(img.RepoDigests, want) {
		t.Errorf("RepoDigests %v lack the index digest %s", img.RepoDigests, want)
	}
	runHello(t, ref)
	gw.onlyGatewaySockets(t)
}

// hostPlatformImage reads the multi layout: its (nested) index's digest
// and the config digest of the image for linux/GOARCH.
func hostPlatformImage(t *testing.T, dir string) (index, config v1.Hash) {
	t.Helper()
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := top.IndexManifest()
	if err != nil || len(tm.Manifests) != 1 {
		t.Fatalf("multi layout: want one nested index in index.json: %v %+v", err, tm)
	}
	index = tm.Manifests[0].Digest
	inner, err := top.ImageIndex(index)
	if err != nil {
		t.Fatal(err)
	}
	im, err := inner.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range im.Manifests {
		if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == runtime.GOARCH {
			img, err := inner.Image(m.Digest)
			if err != nil {
				t.Fatal(err)
			}
			if config, err = img.ConfigName(); err != nil {
				t.Fatal(err)
			}
			return index, config
		}
	}
	t.Skipf("the multi-platform test image has no linux/%s image", runtime.GOARCH)
	return
}

// TestGatewayDockerBuild: a Dockerfile FROM the gateway builds (dockerd
// 20.10's legacy builder pulls the base itself) and the result runs.
func TestGatewayDockerBuild(t *testing.T) {
	needDocker(t)
	r := newRepo(t)
	hello := helloLayout(t)
	d := digests(t, hello)
	cid := r.push(hello)
	gw := offlineGateway(t, r, onHost)
	base := gw.Ref(cid)
	removeImageOnCleanup(t, d.Config.String())

	ctxDir := t.TempDir()
	dockerfile := "FROM " + base + "\nLABEL org.imgp2p.e2e=built-from-ipfs\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "imgp2p-e2e/gateway-built:v1"
	removeImageOnCleanup(t, tag)
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "build", "--network", "none", "-t", tag, ctxDir)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0") // the legacy builder: no buildx on 20.10
	if res := execute(cmd, nil); res.code != 0 {
		t.Fatalf("docker build FROM %s: %v", base, res)
	}

	built, from := dockerInspect(t, tag), dockerInspect(t, base)
	if from.ID != d.Config.String() {
		t.Errorf("the build pulled base image %s, want %s", from.ID, d.Config)
	}
	if built.Config.Labels["org.imgp2p.e2e"] != "built-from-ipfs" {
		t.Errorf("built image labels %v lack the Dockerfile's LABEL", built.Config.Labels)
	}
	if !slices.Equal(built.RootFS.Layers, from.RootFS.Layers) {
		t.Errorf("built image layers %v, want the base's %v", built.RootFS.Layers, from.RootFS.Layers)
	}
	runHello(t, tag)
	gw.onlyGatewaySockets(t)
}

// TestGatewayDockerPullBesideArtifacts: a root holding one image and,
// beside it in index.json with no platform, a cosign-style signature and
// an SBOM (what `cosign save` and oras layouts hold). docker pulls latest
// and gets the image.
func TestGatewayDockerPullBesideArtifacts(t *testing.T) {
	needDocker(t)
	r := newRepo(t)
	hello := helloLayout(t)
	withArtifacts(t, hello)
	d := digests(t, hello)
	cid := r.push(hello)
	gw := offlineGateway(t, r, onHost)
	ref := gw.Ref(cid)
	removeImageOnCleanup(t, d.Config.String())

	docker(t, nil, "pull", ref)
	if id := imageID(t, ref); id != d.Config.String() {
		t.Errorf("docker pull %s gave image %s, want %s", ref, id, d.Config)
	}
	runHello(t, ref)
	gw.onlyGatewaySockets(t)
}
