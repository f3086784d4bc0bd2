package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"

	"github.com/imgp2p/imgp2p/image"
)

// Referrers are every image manifest and index in the root whose subject
// is the digest asked for: indexes too (the conformance suite's "index
// with subject" was missing), and those reachable only through an index,
// as under the referrers tag schema (sha256-<hex>) a registry without the
// referrers API keeps, which the spec says must be listed.
func TestReferrersListManifestsAndIndexesAnywhereInTheRoot(t *testing.T) {
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	subject := randomImage(t)
	subjDesc, err := partial.Descriptor(subject)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(subject, layout.WithAnnotations(map[string]string{image.AnnotationRefName: "v1"})); err != nil {
		t.Fatal(err)
	}
	ref := v1.Descriptor{MediaType: subjDesc.MediaType, Digest: subjDesc.Digest, Size: subjDesc.Size}
	artifact := func(configType string, ann map[string]string) v1.Image {
		img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.MediaType(configType))
		img = mutate.Annotations(img, ann).(v1.Image)
		return mutate.Subject(img, ref).(v1.Image)
	}
	sig := artifact("application/vnd.example.sig", map[string]string{"a": "1"})
	if err := p.AppendImage(sig); err != nil {
		t.Fatal(err)
	}
	rawIndex := func(v any) v1.Descriptor {
		raw, _ := json.Marshal(v)
		h, size, _ := v1.SHA256(bytes.NewReader(raw))
		if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		return v1.Descriptor{MediaType: types.OCIImageIndex, Digest: h, Size: size}
	}
	bundle := rawIndex(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{},
		ArtifactType: "application/vnd.example.bundle", Subject: &ref, Annotations: map[string]string{"b": "2"}})
	untyped := rawIndex(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}, Subject: &ref})
	for _, d := range []v1.Descriptor{bundle, untyped} {
		if err := p.AppendDescriptor(d); err != nil {
			t.Fatal(err)
		}
	}
	// An SBOM held only by the tag-schema index.
	sbom := artifact("application/vnd.example.sbom", nil)
	if err := p.WriteImage(sbom); err != nil {
		t.Fatal(err)
	}
	sbomDesc, _ := partial.Descriptor(sbom)
	tagIndex := rawIndex(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{*sbomDesc}})
	tagIndex.Annotations = map[string]string{image.AnnotationRefName: "sha256-" + subjDesc.Digest.Hex}
	if err := p.AppendDescriptor(tagIndex); err != nil {
		t.Fatal(err)
	}
	dag := mdtest.Mock()
	imp, err := image.ImportLayout(context.Background(), dag, dir, image.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(Options{DAG: dag}))
	t.Cleanup(srv.Close)

	list := func(query string) ([]v1.Descriptor, *http.Response) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/v2/ipfs/" + imp.Root.String() + "/referrers/" + subjDesc.Digest.String() + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var idx v1.IndexManifest
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&idx) != nil {
			t.Fatalf("referrers%s: %s", query, resp.Status)
		}
		return idx.Manifests, resp
	}
	sigDesc, _ := partial.Descriptor(sig)
	want := map[v1.Hash]v1.Descriptor{
		sigDesc.Digest:  {MediaType: types.OCIManifestSchema1, Size: sigDesc.Size, ArtifactType: "application/vnd.example.sig", Annotations: map[string]string{"a": "1"}},
		bundle.Digest:   {MediaType: types.OCIImageIndex, Size: bundle.Size, ArtifactType: "application/vnd.example.bundle", Annotations: map[string]string{"b": "2"}},
		untyped.Digest:  {MediaType: types.OCIImageIndex, Size: untyped.Size},
		sbomDesc.Digest: {MediaType: types.OCIManifestSchema1, Size: sbomDesc.Size, ArtifactType: "application/vnd.example.sbom"},
	}
	got, _ := list("")
	if len(got) != len(want) {
		t.Errorf("referrers: %d entries %+v, want %d", len(got), got, len(want))
	}
	for _, d := range got {
		w, ok := want[d.Digest]
		if !ok || d.MediaType != w.MediaType || d.Size != w.Size || d.ArtifactType != w.ArtifactType || len(d.Annotations) != len(w.Annotations) {
			t.Errorf("referrer %+v, want %+v", d, w)
			continue
		}
		for k, v := range w.Annotations {
			if d.Annotations[k] != v {
				t.Errorf("referrer %s: annotation %s=%q, want %q", d.Digest, k, d.Annotations[k], v)
			}
		}
	}
	got, resp := list("?artifactType=" + url.QueryEscape("application/vnd.example.bundle"))
	if len(got) != 1 || got[0].Digest != bundle.Digest || resp.Header.Get("OCI-Filters-Applied") != "artifactType" {
		t.Errorf("referrers filtered to the bundle type: %+v (OCI-Filters-Applied %q), want the bundle index alone", got, resp.Header.Get("OCI-Filters-Applied"))
	}
}
