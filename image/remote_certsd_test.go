package image

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

// testCA is a private CA of the test's own, which no system trusts.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imgp2p test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a certificate for 127.0.0.1 (server) or for a client, and
// returns it with its key, in PEM.
func (ca *testCA) issue(t *testing.T, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "imgp2p test client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.Subject.CommonName = "127.0.0.1"
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// tlsRegistry serves an in-memory registry over TLS with a certificate
// from ca, and returns its host:port. With clients set, it refuses any
// client that presents no certificate from that CA.
func tlsRegistry(t *testing.T, ca, clients *testCA) string {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, true)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected here
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	if clients != nil {
		srv.TLS.ClientAuth = tls.RequireAndVerifyClientCert
		srv.TLS.ClientCAs = x509.NewCertPool()
		srv.TLS.ClientCAs.AddCert(clients.cert)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://")
}

// certsDs are the certs.d directories a test sees: a HOME of its own and
// two stand-ins for /etc/containers/certs.d and /etc/docker/certs.d.
type certsDs struct{ home, containers, docker string }

func useCertsDs(t *testing.T) certsDs {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	d := certsDs{home: filepath.Join(home, homeCertsDir), containers: t.TempDir(), docker: t.TempDir()}
	saved := systemCertsDirs
	systemCertsDirs = []string{d.containers, d.docker}
	t.Cleanup(func() { systemCertsDirs = saved })
	return d
}

// put writes files into certsD/host.
func put(t *testing.T, certsD, host string, files map[string][]byte) string {
	t.Helper()
	dir := filepath.Join(certsD, host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyAndPush copies an image to host (as imgp2p copy does) and imports
// it back (as imgp2p push docker:// does), returning the first error.
func copyAndPush(t *testing.T, host string, ro RemoteOptions) error {
	t.Helper()
	ctx := context.Background()
	ref := host + "/certs:v1"
	if _, err := pushAndPlan(ctx, t, writeLayout(t)).WriteRemote(ctx, ref, ro); err != nil {
		return err
	}
	_, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, ro)
	return err
}

// A CA in certs.d/HOST:PORT is trusted for that registry, both ways, and
// not for another port on the same host, even with a directory named for
// the host alone: the name must be the reference's HOST:PORT exactly.
func TestCertsDirCATrustedForItsHostPortOnly(t *testing.T) {
	dirs := useCertsDs(t)
	ca := newTestCA(t)
	trusted, other := tlsRegistry(t, ca, nil), tlsRegistry(t, ca, nil)
	put(t, dirs.docker, trusted, map[string][]byte{"ca.crt": ca.pem})
	put(t, dirs.docker, "127.0.0.1", map[string][]byte{"ca.crt": ca.pem})

	if err := copyAndPush(t, trusted, RemoteOptions{}); err != nil {
		t.Errorf("copy and push with the CA in certs.d/%s: %v", trusted, err)
	}
	err := copyAndPush(t, other, RemoteOptions{})
	wantDir := filepath.Join(dirs.docker, other)
	if err == nil || !strings.Contains(err.Error(), "certificate does not verify") || !strings.Contains(err.Error(), wantDir) {
		t.Errorf("copy to %s, whose port has no certs.d directory: %v; want it untrusted, naming %s", other, err, wantDir)
	}
}

// Only the first certs.d holding a directory for the registry is read, as
// in containers/image: the user's, then /etc/containers, then /etc/docker.
func TestCertsDirFirstDirectoryFoundWins(t *testing.T) {
	dirs := useCertsDs(t)
	ca := newTestCA(t)
	host := tlsRegistry(t, ca, nil)

	put(t, dirs.docker, host, map[string][]byte{"ca.crt": ca.pem})
	if err := copyAndPush(t, host, RemoteOptions{}); err != nil {
		t.Errorf("with the CA in the docker certs.d: %v", err)
	}
	shadow := put(t, dirs.containers, host, nil)
	if err := copyAndPush(t, host, RemoteOptions{}); err == nil || !strings.Contains(err.Error(), shadow) {
		t.Errorf("with an empty containers certs.d/%s before docker's: %v; want it untrusted, naming %s", host, err, shadow)
	}
	put(t, dirs.home, host, map[string][]byte{"ca.crt": ca.pem})
	if err := copyAndPush(t, host, RemoteOptions{}); err != nil {
		t.Errorf("with the CA in $HOME/%s: %v", homeCertsDir, err)
	}
}

// A registry that wants a client certificate gets the NAME.cert and
// NAME.key pair of its certs.d directory, with --insecure too; without
// one it refuses, and the error says where the pair goes.
func TestCertsDirClientCertificate(t *testing.T) {
	dirs := useCertsDs(t)
	ca, clients := newTestCA(t), newTestCA(t)
	host := tlsRegistry(t, ca, clients)

	dir := put(t, dirs.docker, host, map[string][]byte{"ca.crt": ca.pem})
	err := copyAndPush(t, host, RemoteOptions{})
	if err == nil || !strings.Contains(err.Error(), "client certificate") || !strings.Contains(err.Error(), dir) {
		t.Errorf("without a client certificate: %v; want it refused, naming %s", err, dir)
	}

	cert, key := clients.issue(t, false)
	put(t, dirs.docker, host, map[string][]byte{"client.cert": cert, "client.key": key})
	if err := copyAndPush(t, host, RemoteOptions{}); err != nil {
		t.Errorf("with client.cert and client.key: %v", err)
	}
	if err := os.Remove(filepath.Join(dir, "ca.crt")); err != nil {
		t.Fatal(err)
	}
	if err := copyAndPush(t, host, RemoteOptions{Insecure: true}); err != nil {
		t.Errorf("with the client pair and --insecure, no CA: %v", err)
	}
}

// A client certificate without its key, or a key without its certificate,
// is an error naming the file, found before anything is dialed, so copy
// says so before it waits for blocks.
func TestCertsDirLoneCertOrKeyNamesTheFile(t *testing.T) {
	ca := newTestCA(t)
	cert, key := ca.issue(t, false)
	for _, c := range []struct {
		file  string
		pem   []byte
		wants []string
	}{
		{"client.cert", cert, []string{"client.cert", "no key client.key", "*.crt"}},
		{"client.key", key, []string{"client.key", "no client certificate client.cert"}},
	} {
		dirs := useCertsDs(t)
		host, accepted := countAccepts(t)
		dir := put(t, dirs.containers, host, map[string][]byte{c.file: c.pem})
		wants := append(c.wants, filepath.Join(dir, c.file))
		ref := host + "/app:v1"
		checkErr := RemoteOptions{}.Check(ref)
		_, importErr := ImportRemote(context.Background(), mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{})
		for _, err := range []error{checkErr, importErr} {
			for _, want := range wants {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("with a lone %s: %v; want %q in it", c.file, err, want)
				}
			}
		}
		if n := accepted(); n != 0 {
			t.Errorf("with a lone %s, the registry was dialed %d times", c.file, n)
		}
	}
}

// countAccepts listens on loopback and closes every connection it is
// offered, counting them. A client that dialed it has been counted by the
// time its request fails, since only the close ends its handshake.
func countAccepts(t *testing.T) (host string, accepted func() int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return l.Addr().String(), n.Load
}

// The directory is named as the reference writes the registry; Docker
// Hub's is docker.io, as containers/image names it.
func TestCertsDirName(t *testing.T) {
	for ref, want := range map[string]string{
		"registry.local:5000/app:v1":   "registry.local:5000",
		"registry.local/app:v1":        "registry.local",
		"[::1]:5000/app:v1":            "[::1]:5000",
		"alpine:3":                     "docker.io",
		"index.docker.io/library/x:v1": "docker.io",
	} {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		if got := certsDirName(r.Context().Registry); got != want {
			t.Errorf("certs.d name for %s: %q, want %q", ref, got, want)
		}
	}
}
