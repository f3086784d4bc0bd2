package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// The account Debian's docker-registry accepts: htpasswd wants bcrypt, so
// the hash of regPassword is written out here (cost 4) rather than pulling
// a bcrypt package into the module for one test.
const (
	regUser     = "alice"
	regPassword = "s3cret-pw-42"
	regHtpasswd = "alice:$2a$04$GD.TlzK50FRBOX.yVJUphOhZzJEDRby1X5nVZJZKJDgOSgjL.4tBK\n"
)

// distribution is Debian's docker-registry (distribution 2.8) inside the
// test namespace, serving TLS with a certificate from a CA of the test's
// own, and asking for basic auth.
type distribution struct {
	Host string // 127.0.0.1:PORT
	CA   string // PEM file of the CA that signed its certificate
}

var listeningOn = regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+), tls`)

func startDistribution(t *testing.T) *distribution {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	need(t, "docker-registry (apt-get install docker-registry)", err)
	need(t, "network namespace", netnsErr)
	dir := t.TempDir()
	ca, cert, key := testCerts(t)
	files := map[string][]byte{"ca.pem": ca, "cert.pem": cert, "key.pem": key, "htpasswd": []byte(regHtpasswd)}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	config := fmt.Sprintf(`version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %[1]s/storage
http:
  addr: 127.0.0.1:0
  tls:
    certificate: %[1]s/cert.pem
    key: %[1]s/key.pem
auth:
  htpasswd:
    realm: imgp2p-e2e
    path: %[1]s/htpasswd
`, dir)
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := inNetns(bin, "serve", cfg)
	port, _ := startForPort(t, "docker-registry", argv, listeningOn)
	return &distribution{Host: "127.0.0.1:" + port, CA: filepath.Join(dir, "ca.pem")}
}

// testCerts makes a CA and, signed by it, a certificate for 127.0.0.1;
// it returns the CA's certificate and the server's certificate and key,
// in PEM.
func testCerts(t *testing.T) (ca, cert, key []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imgp2p e2e CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caTmpl, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// dockerLogin writes the docker config `docker login` would leave in home
// for user:password at host.
func dockerLogin(t *testing.T, home, host, user, password string) {
	t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	b, err := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, ".docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".docker", "config.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}
