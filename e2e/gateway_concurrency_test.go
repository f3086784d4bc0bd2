package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgp2p/imgp2p/e2e/testimage"
)

// TestGatewayConcurrentRequests: 100 requests at once for blobs and
// manifests all succeed with the right bytes, both from a daemon's gateway
// serving its own repo and from a gateway that fetches everything from that
// daemon while the requests are in flight.
func TestGatewayConcurrentRequests(t *testing.T) {
	img := randomLayout(t, 8, 100)
	d := digests(t, img)
	a := newRepo(t)
	cid := a.push(img)
	da, local := registryDaemon(t, a)

	t.Run("local", func(t *testing.T) { hammer(t, local, cid, d) })
	t.Run("from-peer", func(t *testing.T) {
		g := newRepo(t)
		hammer(t, peerGateway(t, g, da.Addr), cid, d)
		// A root served through the gateway stays in the repo, cached.
		if ls := g.ok("ls"); !bytes.Contains(ls.stdout, []byte(cid)) {
			t.Errorf("the gateway's repo does not list %s after serving it:\n%s", cid, ls.stdout)
		}
	})
}

// hammer sends 100 GETs at once, a quarter each for the layer, the config,
// the manifest by tag and the manifest by digest, and checks every body
// against its digest.
func hammer(t *testing.T, gw *gateway, cid string, d testimage.ImageDigests) {
	t.Helper()
	repo := "/v2/ipfs/" + cid
	targets := []struct {
		path string
		want v1.Hash
	}{
		{repo + "/blobs/" + d.Layers[0].String(), d.Layers[0]},
		{repo + "/blobs/" + d.Config.String(), d.Config},
		{repo + "/manifests/latest", d.Manifest},
		{repo + "/manifests/" + d.Manifest.String(), d.Manifest},
	}
	const n = 100
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		tg := targets[i%len(targets)]
		wg.Go(func() {
			<-start
			errs[i] = fetchVerified(gw, tg.path, tg.want)
		})
	}
	close(start)
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			if failed <= 5 {
				t.Errorf("request %d: %v", i, err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d concurrent requests failed", failed, n)
	}
}

func fetchVerified(gw *gateway, path string, want v1.Hash) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, gw.URL+path, nil)
	if err != nil {
		return err
	}
	resp, err := gw.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: %s, body cut after %d bytes: %w", path, resp.Status, len(body), err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
	}
	if got := sha256Digest(body); got != want.String() {
		return fmt.Errorf("GET %s: %d bytes with digest %s, want %s", path, len(body), got, want)
	}
	return nil
}
