package image

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// A root holding only an artifact, pulled as a docker-archive (which
// filters by the host platform), said "no image for platform linux/amd64
// (it has [unknown]); choose one with --platform", which no --platform
// could satisfy. It now says what the root holds and what writes it.
func TestPlanOfArtifactsOnlySaysToWriteALayout(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	sbom := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), "application/vnd.oci.empty.v1+json")
	sbom, err = mutate.Append(sbom, mutate.Addendum{Layer: static.NewLayer([]byte(`{}`), "application/spdx+json")})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(sbom); err != nil {
		t.Fatal(err)
	}
	dag := mdtest.Mock()
	imp, err := ImportPath(ctx, dag, dir, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	root, err := Open(ctx, dag, imp.Root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Plan(ctx, ExportOptions{}); err != nil {
		t.Fatalf("plan of every entry: %v", err)
	}
	_, err = root.Plan(ctx, ExportOptions{Platform: HostPlatform()})
	if err == nil || !strings.Contains(err.Error(), "only 1 artifact") || !strings.Contains(err.Error(), "--format oci") {
		t.Fatalf("plan for the host platform: %v, want an error saying it holds an artifact and to use --format oci", err)
	}
}
