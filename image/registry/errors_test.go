package registry

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// specCodes are the codes the distribution spec allows in a 4xx body
// ("The code field MUST be one of the following").
var specCodes = []string{
	"BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
	"MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID",
	"NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED", "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS",
}

// Every 4xx the gateway gives carries a code from the spec's list. An
// unsatisfiable range said RANGE_INVALID and a bad tags/list?n= said
// PAGINATION_NUMBER_INVALID, docker/distribution's codes the spec lacks.
func TestEvery4xxCodeIsTheSpecs(t *testing.T) {
	srv, root, idx := serve(t)
	im, _ := idx.IndexManifest()
	img, _ := idx.Image(im.Manifests[0].Digest)
	cfg, _ := img.ConfigName()
	repo := "/v2/ipfs/" + root
	for _, c := range []struct {
		path, rng string
		status    int
	}{
		{repo + "/blobs/" + cfg.String(), "bytes=999999-", http.StatusRequestedRangeNotSatisfiable},
		{repo + "/tags/list?n=-1", "", http.StatusBadRequest},
		{repo + "/tags/list?n=many", "", http.StatusBadRequest},
		{repo + "/manifests/nope", "", http.StatusNotFound},
		{repo + "/manifests/sha256:1", "", http.StatusBadRequest},
		{repo + "/blobs/sha256:" + strings.Repeat("0", 64), "", http.StatusNotFound},
		{repo + "/referrers/sha256:1", "", http.StatusBadRequest},
		{repo + "/nope", "", http.StatusNotFound},
		{"/v2/ipfs/nope/tags/list", "", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+c.path, nil)
		if c.rng != "" {
			req.Header.Set("Range", c.rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Errors []struct{ Code string } }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != c.status || err != nil || len(body.Errors) == 0 {
			t.Errorf("GET %s (Range %q): %d %+v (%v), want %d with an OCI error body", c.path, c.rng, resp.StatusCode, body, err, c.status)
			continue
		}
		for _, e := range body.Errors {
			if !slices.Contains(specCodes, e.Code) {
				t.Errorf("GET %s (Range %q): code %s is not one the spec lists", c.path, c.rng, e.Code)
			}
		}
	}
}
