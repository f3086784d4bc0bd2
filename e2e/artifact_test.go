package e2e

import (
	"encoding/json"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// withArtifacts adds to the layout at dir, beside its image, what signing
// and SBOM tools put in index.json with no platform: a cosign-style
// signature (an image config media type over a non-layer blob) and an OCI
// 1.1 artifact (the empty config).
func withArtifacts(t *testing.T, dir string) {
	t.Helper()
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	artifact := func(config types.MediaType, blob string, mt types.MediaType) v1.Image {
		img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		img = mutate.ConfigMediaType(img, config)
		img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer([]byte(blob), mt)})
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	for _, img := range []v1.Image{
		artifact(types.OCIConfigJSON, `{"critical":{}}`, "application/vnd.dev.cosign.simplesigning.v1+json"),
		artifact("application/vnd.oci.empty.v1+json", `{"spdxVersion":"SPDX-2.3"}`, "application/spdx+json"),
	} {
		if err := p.AppendImage(img); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPullSkipsArtifactsForDocker: a layout whose index.json lists an image
// and artifacts with no platform pulls as a docker-archive docker loads and
// runs (before, each artifact became an "image" of the archive and docker
// load refused the whole archive: "layers length mismatch"), and --format
// oci still keeps the artifacts.
func TestPullSkipsArtifactsForDocker(t *testing.T) {
	needDocker(t)
	r := newRepo(t)
	layout := helloLayout(t)
	withArtifacts(t, layout)
	cid := r.push(layout)

	tag := "imgp2p-e2e/artifacts:v1"
	pull, load := r.pipeToDocker("pull", "--tag", tag, cid)
	if pull.code != 0 || load.code != 0 {
		t.Fatalf("imgp2p pull | docker load:\n%v\n%v", pull, load)
	}
	removeImageOnCleanup(t, tag)
	if got := loadedImage(t, load); got != tag {
		t.Errorf("docker loaded %q, want %q", got, tag)
	}
	if got, want := imageID(t, tag), digests(t, layout).Config.String(); got != want {
		t.Errorf("loaded image ID %s, want %s", got, want)
	}
	runHello(t, tag)

	tar := filepath.Join(t.TempDir(), "hello.tar")
	r.ok("pull", "-o", tar, cid)
	dir := filepath.Join(t.TempDir(), "x")
	untar(t, tar, dir)
	var images []struct{ Config string }
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "manifest.json")), &images); err != nil {
		t.Fatal(err)
	}
	if len(images) != 1 {
		t.Errorf("docker-archive holds %d images, want the one image: %+v", len(images), images)
	}

	out := filepath.Join(t.TempDir(), "oci")
	r.ok("pull", "--format", "oci", "-o", out, cid)
	sameLayout(t, out, layout)
}
