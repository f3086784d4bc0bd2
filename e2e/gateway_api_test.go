package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// The registry API as the OCI distribution spec (pull side, v1.1) has it,
// checked request by request against a gateway serving the repo offline.

const ociManifest = "application/vnd.oci.image.manifest.v1+json"

func TestGatewayAPI(t *testing.T) {
	r := newRepo(t)
	hello := helloLayout(t)
	d := digests(t, hello)
	cid := r.push(hello)
	manifest := readFile(t, testimage.BlobPath(hello, d.Manifest))
	config := readFile(t, testimage.BlobPath(hello, d.Config))
	layer := readFile(t, testimage.BlobPath(hello, d.Layers[0]))
	gw := offlineGateway(t, r, nsOf(r))
	repo := "/v2/ipfs/" + cid

	t.Run("base", func(t *testing.T) {
		resp, body := gw.do(t, http.MethodGet, "/v2/", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v2/: %s", resp.Status)
		}
		if v := resp.Header.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
			t.Errorf("Docker-Distribution-API-Version %q, want registry/2.0", v)
		}
		if !json.Valid(body) {
			t.Errorf("GET /v2/ body is not JSON: %q", body)
		}
	})

	t.Run("manifest", func(t *testing.T) {
		// latest (the root's only image), the ref-name tag, the digest.
		for _, ref := range []string{"latest", "v1", d.Manifest.String()} {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				what := method + " manifests/" + ref
				resp, body := gw.do(t, method, repo+"/manifests/"+ref,
					http.Header{"Accept": {ociManifest, "application/vnd.docker.distribution.manifest.v2+json"}})
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: %s\n%.500s", what, resp.Status, body)
					continue
				}
				wantHeader(t, what, resp, "Content-Type", ociManifest)
				wantHeader(t, what, resp, "Docker-Content-Digest", d.Manifest.String())
				wantHeader(t, what, resp, "Content-Length", fmt.Sprint(len(manifest)))
				wantHeader(t, what, resp, "Docker-Distribution-API-Version", "registry/2.0")
				if method == http.MethodGet && !bytes.Equal(body, manifest) {
					t.Errorf("%s: body differs from the stored manifest:\n%s\nwant\n%s", what, body, manifest)
				}
				if method == http.MethodHead && len(body) != 0 {
					t.Errorf("%s: HEAD has a body", what)
				}
			}
		}
	})

	t.Run("blob", func(t *testing.T) {
		for _, b := range []struct {
			h    v1.Hash
			body []byte
		}{{d.Config, config}, {d.Layers[0], layer}} {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				what := method + " blobs/" + b.h.String()
				resp, body := gw.do(t, method, repo+"/blobs/"+b.h.String(), nil)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: %s\n%.500s", what, resp.Status, body)
					continue
				}
				wantHeader(t, what, resp, "Docker-Content-Digest", b.h.String())
				wantHeader(t, what, resp, "Content-Length", fmt.Sprint(len(b.body)))
				if method == http.MethodGet && !bytes.Equal(body, b.body) {
					t.Errorf("%s: %d bytes differing from the stored blob's %d", what, len(body), len(b.body))
				}
				if method == http.MethodHead && len(body) != 0 {
					t.Errorf("%s: HEAD has a body", what)
				}
			}
		}
	})

	t.Run("range", func(t *testing.T) {
		size := int64(len(layer))
		path := repo + "/blobs/" + d.Layers[0].String()
		for _, tc := range []struct {
			header     string
			start, end int64 // inclusive
		}{
			{"bytes=0-0", 0, 0},
			{"bytes=10-99", 10, 99},
			{fmt.Sprintf("bytes=%d-", size/2), size / 2, size - 1},
			{"bytes=-100", size - 100, size - 1},
			{fmt.Sprintf("bytes=%d-%d", size-10, size+1000), size - 10, size - 1}, // clamped to the end
		} {
			resp, body := gw.do(t, http.MethodGet, path, http.Header{"Range": {tc.header}})
			what := "Range: " + tc.header
			if resp.StatusCode != http.StatusPartialContent {
				t.Errorf("%s: %s, want 206", what, resp.Status)
				continue
			}
			wantHeader(t, what, resp, "Content-Range", fmt.Sprintf("bytes %d-%d/%d", tc.start, tc.end, size))
			wantHeader(t, what, resp, "Content-Length", fmt.Sprint(tc.end-tc.start+1))
			if !bytes.Equal(body, layer[tc.start:tc.end+1]) {
				t.Errorf("%s: %d bytes that are not bytes %d-%d of the blob", what, len(body), tc.start, tc.end)
			}
		}
		// Unsatisfiable: starts at or past the end.
		for _, h := range []string{fmt.Sprintf("bytes=%d-", size), fmt.Sprintf("bytes=%d-%d", size+5, size+10)} {
			resp, body := gw.do(t, http.MethodGet, path, http.Header{"Range": {h}})
			wantError(t, "Range: "+h, resp, body, http.StatusRequestedRangeNotSatisfiable, "")
			if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
				wantHeader(t, "Range: "+h, resp, "Content-Range", fmt.Sprintf("bytes */%d", size))
			}
		}
	})

	t.Run("tags", func(t *testing.T) {
		type tagList struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		list := func(query string) (tagList, *http.Response) {
			resp, body := gw.do(t, http.MethodGet, repo+"/tags/list"+query, nil)
			var l tagList
			if resp.StatusCode != http.StatusOK {
				t.Errorf("tags/list%s: %s\n%.500s", query, resp.Status, body)
			} else if err := json.Unmarshal(body, &l); err != nil {
				t.Errorf("tags/list%s: %v: %q", query, err, body)
			}
			return l, resp
		}
		all, _ := list("")
		if all.Name != "ipfs/"+cid || !slices.Equal(all.Tags, []string{"latest", "v1"}) {
			t.Errorf("tags/list = %+v, want name ipfs/%s and tags [latest v1]", all, cid)
		}
		first, resp := list("?n=1")
		if !slices.Equal(first.Tags, []string{"latest"}) {
			t.Errorf("tags/list?n=1 = %v, want [latest]", first.Tags)
		}
		if link := resp.Header.Get("Link"); !strings.Contains(link, "last=latest") || !strings.Contains(link, `rel="next"`) {
			t.Errorf(`tags/list?n=1: Link %q, want a rel="next" link with last=latest`, link)
		}
		if next, _ := list("?n=1&last=latest"); !slices.Equal(next.Tags, []string{"v1"}) {
			t.Errorf("tags/list?n=1&last=latest = %v, want [v1]", next.Tags)
		}
		if none, _ := list("?n=0"); len(none.Tags) != 0 {
			t.Errorf("tags/list?n=0 = %v, want none", none.Tags)
		}
		resp, body := gw.do(t, http.MethodGet, repo+"/tags/list?n=-1", nil)
		wantError(t, "tags/list?n=-1", resp, body, http.StatusBadRequest, "UNSUPPORTED")
	})

	t.Run("errors", func(t *testing.T) {
		zeros := "sha256:" + strings.Repeat("0", 64)
		absent := unknownCID()
		for _, tc := range []struct {
			method, path string
			status       int
			code         string
		}{
			{"GET", "/v2/ipfs/" + absent + "/manifests/latest", 404, "NAME_UNKNOWN"},
			{"GET", "/v2/ipfs/" + absent + "/blobs/" + d.Config.String(), 404, "NAME_UNKNOWN"},
			{"GET", "/v2/ipfs/" + absent + "/tags/list", 404, "NAME_UNKNOWN"},
			// In the repo, but a blob's block (rawCID), not an image root.
			{"GET", "/v2/ipfs/" + rawCID(d.Config) + "/manifests/latest", 404, "NAME_UNKNOWN"},
			{"GET", "/v2/library/hello/manifests/latest", 404, "NAME_UNKNOWN"},
			{"GET", "/v2/ipfs/not-a-cid/manifests/latest", 400, "NAME_INVALID"},
			{"GET", "/v2/ipfs/not-a-cid/blobs/" + d.Config.String(), 400, "NAME_INVALID"},
			{"GET", repo + "/manifests/no-such-tag", 404, "MANIFEST_UNKNOWN"},
			{"GET", repo + "/manifests/" + zeros, 404, "MANIFEST_UNKNOWN"},
			{"GET", repo + "/manifests/" + d.Layers[0].String(), 404, "MANIFEST_UNKNOWN"}, // a blob, not a manifest
			{"GET", repo + "/manifests/sha256:abc", 400, "DIGEST_INVALID"},
			{"GET", repo + "/blobs/" + zeros, 404, "BLOB_UNKNOWN"},
			{"GET", repo + "/blobs/sha256:xyz", 400, "DIGEST_INVALID"},
			{"GET", repo + "/blobs/latest", 400, "DIGEST_INVALID"},
			{"GET", repo + "/referrers/not-a-digest", 400, "DIGEST_INVALID"},
			{"GET", repo + "/no/such/endpoint", 404, ""},
			{"HEAD", repo + "/manifests/no-such-tag", 404, ""},
			{"HEAD", repo + "/blobs/" + zeros, 404, ""},
			{"HEAD", "/v2/ipfs/" + absent + "/manifests/latest", 404, ""},
			// A read-only registry: every write is UNSUPPORTED.
			{"PUT", repo + "/manifests/latest", 405, "UNSUPPORTED"},
			{"DELETE", repo + "/manifests/" + d.Manifest.String(), 405, "UNSUPPORTED"},
			{"DELETE", repo + "/blobs/" + d.Config.String(), 405, "UNSUPPORTED"},
			{"POST", repo + "/blobs/uploads/", 405, "UNSUPPORTED"},
			{"PATCH", repo + "/blobs/uploads/some-session", 405, "UNSUPPORTED"},
			{"PUT", repo + "/blobs/uploads/some-session?digest=" + d.Config.String(), 405, "UNSUPPORTED"},
		} {
			what := tc.method + " " + tc.path
			resp, body := gw.do(t, tc.method, tc.path, nil)
			wantError(t, what, resp, body, tc.status, tc.code)
			if v := resp.Header.Get("Docker-Distribution-API-Version"); v != "registry/2.0" {
				t.Errorf("%s: Docker-Distribution-API-Version %q, want registry/2.0", what, v)
			}
			// RFC 9110 §15.5.6: a 405 MUST carry Allow.
			if tc.status == 405 && resp.StatusCode == 405 {
				if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "HEAD") {
					t.Errorf("%s: 405 with Allow %q, want the methods it does serve (GET, HEAD)", what, allow)
				}
			}
		}
	})

	t.Run("referrers", func(t *testing.T) {
		// A second root holding an image and an artifact whose subject is
		// that image.
		const artifactType = "application/vnd.imgp2p.test.sbom.v1+json"
		dir, subject, artifact := referrerLayout(t, artifactType)
		r2 := newRepo(t)
		cid2 := r2.push(dir)
		gw2 := offlineGateway(t, r2, nsOf(r2))
		path := "/v2/ipfs/" + cid2 + "/referrers/" + subject.String()
		list := func(query string) (v1.IndexManifest, *http.Response) {
			resp, body := gw2.do(t, http.MethodGet, path+query, nil)
			var idx v1.IndexManifest
			if resp.StatusCode != http.StatusOK {
				t.Errorf("referrers%s: %s\n%.500s", query, resp.Status, body)
				return idx, resp
			}
			wantHeader(t, "referrers"+query, resp, "Content-Type", string(types.OCIImageIndex))
			if err := json.Unmarshal(body, &idx); err != nil {
				t.Errorf("referrers%s: %v: %q", query, err, body)
			}
			return idx, resp
		}
		idx, _ := list("")
		if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != artifact || idx.Manifests[0].ArtifactType != artifactType {
			t.Errorf("referrers of %s = %+v, want the artifact %s of type %s", subject, idx.Manifests, artifact, artifactType)
		}
		idx, resp := list("?artifactType=" + url.QueryEscape(artifactType))
		if len(idx.Manifests) != 1 {
			t.Errorf("referrers?artifactType=%s lists %d, want 1", artifactType, len(idx.Manifests))
		}
		if resp.Header.Get("OCI-Filters-Applied") != "artifactType" {
			t.Errorf("filtered referrers without OCI-Filters-Applied: artifactType")
		}
		if idx, _ := list("?artifactType=application/x-other"); len(idx.Manifests) != 0 {
			t.Errorf("referrers?artifactType=application/x-other lists %+v, want none", idx.Manifests)
		}
		// No referrers is an empty index, not an error (spec v1.1).
		resp2, body := gw2.do(t, http.MethodGet, "/v2/ipfs/"+cid2+"/referrers/"+d.Config.String(), nil)
		var empty v1.IndexManifest
		if resp2.StatusCode != http.StatusOK || json.Unmarshal(body, &empty) != nil || len(empty.Manifests) != 0 {
			t.Errorf("referrers of a digest nothing refers to: %s %q, want 200 with an empty index", resp2.Status, body)
		}
	})
}

// wantHeader checks one response header's exact value.
func wantHeader(t testing.TB, what string, resp *http.Response, key, want string) {
	t.Helper()
	if got := resp.Header.Get(key); got != want {
		t.Errorf("%s: %s %q, want %q", what, key, got, want)
	}
}

// referrerLayout writes a layout holding the hello image (tagged v1) and an
// artifact manifest of artifactType whose subject is that image, tagged
// sbom. It returns the dir and both manifest digests.
func referrerLayout(t testing.TB, artifactType string) (dir string, subject, artifact v1.Hash) {
	t.Helper()
	img, err := testimage.HelloImage(runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := partial.Descriptor(img)
	if err != nil {
		t.Fatal(err)
	}
	art := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	art = mutate.ConfigMediaType(art, types.MediaType(artifactType))
	art = mutate.Subject(art, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}).(v1.Image)
	dir = filepath.Join(t.TempDir(), "referrers")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	ann := func(tag string) layout.Option {
		return layout.WithAnnotations(map[string]string{testimage.RefNameAnnotation: "imgp2p-test/hello:" + tag})
	}
	if err := p.AppendImage(img, ann("v1")); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(art, ann("sbom")); err != nil {
		t.Fatal(err)
	}
	if artifact, err = art.Digest(); err != nil {
		t.Fatal(err)
	}
	return dir, desc.Digest, artifact
}
