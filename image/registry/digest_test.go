package registry

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// A sha512 digest is well formed but names nothing in a root, whose blobs
// are all sha256: it is unknown (404), where it used to be a 500 that
// clients retry as if the registry were failing.
func TestDigestInAnotherAlgorithmIsUnknown(t *testing.T) {
	srv, root, _ := serve(t)
	sha512 := "sha512:" + strings.Repeat("0", 128)
	for _, c := range []struct{ path, code string }{
		{"/manifests/" + sha512, codeManifestUnknown},
		{"/blobs/" + sha512, codeBlobUnknown},
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			req, _ := http.NewRequest(method, srv.URL+"/v2/ipfs/"+root+c.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Errors []struct{ Code string } }
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s: %d, want 404", method, c.path, resp.StatusCode)
			}
			if method == http.MethodGet && (len(body.Errors) != 1 || body.Errors[0].Code != c.code) {
				t.Errorf("%s %s: errors %+v, want %s", method, c.path, body.Errors, c.code)
			}
		}
	}
}
