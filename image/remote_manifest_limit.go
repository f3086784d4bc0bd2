package image

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// manifestLimit cuts a manifest response off past maxMetadataSize. A
// manifest fetched by tag has no descriptor to bound it, and
// go-containerregistry reads up to 100 MiB of one into memory before it
// gives up; no manifest imgp2p can store is larger than maxMetadataSize.
type manifestLimit struct{ next http.RoundTripper }

func (t manifestLimit) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !isManifestPath(req.URL.Path) {
		return resp, err
	}
	resp.Body = &limitedManifest{ReadCloser: resp.Body, left: maxMetadataSize, host: req.URL.Host}
	return resp, nil
}

// isManifestPath tells a manifest's URL (/v2/NAME/manifests/REFERENCE)
// from others: a repository's name may itself have a component
// "manifests" (ci/manifests/app), whose blobs' URLs hold "/manifests/"
// too, and a reference holds no "/".
func isManifestPath(path string) bool {
	i := strings.LastIndex(path, "/manifests/")
	return i >= 0 && !strings.Contains(path[i+len("/manifests/"):], "/")
}

type limitedManifest struct {
	io.ReadCloser
	left int64
	host string
}

func (b *limitedManifest) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.tooLarge()
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if b.left -= int64(n); b.left < 0 {
		return 0, b.tooLarge()
	}
	return n, err
}

func (b *limitedManifest) tooLarge() error {
	return fmt.Errorf("registry %s sent a manifest larger than %d MiB, the most imgp2p stores", b.host, maxMetadataSize>>20)
}
