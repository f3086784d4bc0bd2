package image

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// dialRecorder fails every request and remembers where it was going.
type dialRecorder struct {
	mu    sync.Mutex
	hosts []string
}

func (d *dialRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.hosts = append(d.hosts, req.URL.Host)
	return nil, errors.New("test: no network")
}

// docker://127.0.0.1:5000 is, in Docker's grammar, repository 127.0.0.1
// with tag 5000 on Docker Hub; a user writing it means the local registry.
// It must be refused before anything is dialed.
func TestRemoteHostWithoutRepositoryDialsNothing(t *testing.T) {
	ctx := context.Background()
	for _, ref := range []string{"127.0.0.1:5000", "localhost:5000", "registry.example.com:443"} {
		rec := &dialRecorder{}
		ro := RemoteOptions{Transport: rec}
		_, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, ro)
		if err == nil || !strings.Contains(err.Error(), "no repository") || !strings.Contains(err.Error(), ref+"/REPO:TAG") {
			t.Errorf("push docker://%s: %v; want it refused, saying to write %s/REPO:TAG", ref, err, ref)
		}
		if len(rec.hosts) != 0 {
			t.Errorf("push docker://%s dialed %v", ref, rec.hosts)
		}
	}
	// Short names still mean Docker Hub, as for docker pull.
	for _, ref := range []string{"alpine:3", "alpine", "library/alpine:3.19"} {
		if _, err := (RemoteOptions{}).parse(ref); err != nil {
			t.Errorf("parse %s: %v", ref, err)
		}
	}
}
