package image

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// A registry whose certificate the system does not trust fails with what
// to do about it, rather than Go's bare x509 error (followed, on loopback,
// by the plain-HTTP attempt's 400, which hid it further).
func TestRemoteUntrustedCertSaysWhatToDo(t *testing.T) {
	srv := httptest.NewTLSServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "https://") + "/tls:v1"
	img, err := random.Image(1<<10, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(mustRef(t, ref), img, remote.WithTransport(srv.Client().Transport)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{})
	for _, want := range []string{"certificate does not verify", "certs.d", "SSL_CERT_FILE", "--insecure"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("import from a registry with an untrusted certificate: %v; want %q in it", err, want)
		}
	}
	if _, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{Insecure: true}); err != nil {
		t.Errorf("with Insecure: %v", err)
	}
}
