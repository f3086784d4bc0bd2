package registry

import (
	"io"
	"net/http"
	"testing"
)

// The gateway sends ETags (the digests), so it must honour them: a GET or
// HEAD whose If-None-Match names the entity is a 304 without a body
// (RFC 9110 §13.1.2), and a Range under an If-Range naming another entity
// gets the whole blob, never bytes of something the client does not hold.
func TestConditionalRequestsHonourTheETag(t *testing.T) {
	srv, root, idx := serve(t)
	im, _ := idx.IndexManifest()
	img, _ := idx.Image(im.Manifests[0].Digest)
	layers, _ := img.Layers()
	layer, _ := layers[0].Digest()
	index, _ := idx.Digest()
	repo := srv.URL + "/v2/ipfs/" + root
	do := func(method, url string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, body
	}
	for _, c := range []struct{ url, etag string }{
		{repo + "/manifests/v1", `"` + index.String() + `"`},
		{repo + "/manifests/" + index.String(), `"` + index.String() + `"`},
		{repo + "/blobs/" + layer.String(), `"` + layer.String() + `"`},
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			for _, inm := range []string{c.etag, `"sha256:other", W/` + c.etag, "*"} {
				resp, body := do(method, c.url, map[string]string{"If-None-Match": inm})
				if resp.StatusCode != http.StatusNotModified || len(body) != 0 || resp.Header.Get("Etag") != c.etag {
					t.Errorf("%s %s with If-None-Match %s: %s, %d bytes, ETag %q; want 304, no body, ETag %s",
						method, c.url, inm, resp.Status, len(body), resp.Header.Get("Etag"), c.etag)
				}
			}
			if resp, _ := do(method, c.url, map[string]string{"If-None-Match": `"sha256:other"`}); resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s with If-None-Match of another entity: %s, want 200", method, c.url, resp.Status)
			}
		}
	}

	blob := repo + "/blobs/" + layer.String()
	etag := `"` + layer.String() + `"`
	size, _ := layers[0].Size()
	if resp, body := do(http.MethodGet, blob, map[string]string{"Range": "bytes=0-9", "If-Range": etag}); resp.StatusCode != http.StatusPartialContent || len(body) != 10 {
		t.Errorf("Range with a matching If-Range: %s, %d bytes; want 206, 10 bytes", resp.Status, len(body))
	}
	if resp, body := do(http.MethodGet, blob, map[string]string{"Range": "bytes=0-9", "If-Range": `"sha256:other"`}); resp.StatusCode != http.StatusOK || int64(len(body)) != size {
		t.Errorf("Range with If-Range of another entity: %s, %d bytes; want 200, the whole %d", resp.Status, len(body), size)
	}
}
