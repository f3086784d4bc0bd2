package image

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// systemCertsDirs hold per-registry TLS files for every user, in the order
// containers/image (podman, skopeo) searches them; /etc/docker/certs.d is
// docker's own. Tests point them elsewhere.
var systemCertsDirs = []string{"/etc/containers/certs.d", "/etc/docker/certs.d"}

// homeCertsDir is where containers/image looks first, for root as for
// anyone else: a user without write access to /etc keeps a registry's CA
// here.
const homeCertsDir = ".config/containers/certs.d"

// certsDirs are the certs.d directories in the order they are searched.
func certsDirs() []string {
	dirs := slices.Clone(systemCertsDirs)
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append([]string{filepath.Join(home, homeCertsDir)}, dirs...)
	}
	return dirs
}

// certsDirName is the name of reg's directory in certs.d: HOST or
// HOST:PORT as the reference writes it, so registry.local and
// registry.local:443 are different directories, as for docker and skopeo.
// Docker Hub's is docker.io, the name containers/image uses for it.
func certsDirName(reg name.Registry) string {
	if reg.RegistryStr() == name.DefaultRegistry {
		return "docker.io"
	}
	return reg.RegistryStr()
}

// certsDir finds reg's TLS directory: the first certs.d that has one is
// the only one read, as in containers/image, so a user's directory
// overrides the system's rather than adding to it. One that cannot be
// looked at (containers/image names lack of permission) is passed over.
// If none has one, dir is where docker, podman and skopeo would all find
// it.
func certsDir(reg name.Registry) (dir string, found bool) {
	dirs := certsDirs()
	for _, d := range dirs {
		candidate := filepath.Join(d, certsDirName(reg))
		if _, err := os.Stat(candidate); err == nil {
			return candidate, true
		}
	}
	return filepath.Join(dirs[len(dirs)-1], certsDirName(reg)), false
}

// registryTLS is the TLS configuration reg's certs.d directory asks for,
// or nil when it has none, leaving Go's defaults (the system's roots,
// which SSL_CERT_FILE and SSL_CERT_DIR change).
func registryTLS(reg name.Registry) (*tls.Config, error) {
	dir, found := certsDir(reg)
	if !found {
		return nil, nil
	}
	cfg := &tls.Config{}
	if err := readCertsDir(dir, cfg); err != nil {
		return nil, err
	}
	if cfg.RootCAs == nil && len(cfg.Certificates) == 0 {
		return nil, nil
	}
	return cfg, nil
}

// readCertsDir adds dir's TLS files to cfg with the rules docker's
// ReadCertsDirectory and containers/image's SetupCertificates share:
// each *.crt is a CA trusted besides the system's roots; each *.cert is
// a client certificate whose key is the *.key of the same name, and
// neither may come without the other. Other files are ignored, as is a
// *.crt holding no PEM certificate.
func readCertsDir(dir string, cfg *tls.Config) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read registry certificates: %w", err)
	}
	has := func(name string) bool {
		return slices.ContainsFunc(entries, func(e os.DirEntry) bool { return e.Name() == name })
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch filepath.Ext(e.Name()) {
		case ".crt":
			pem, err := os.ReadFile(path)
			if errors.Is(err, fs.ErrNotExist) {
				continue // a dangling symlink, or removed since the listing
			}
			if err != nil {
				return fmt.Errorf("read registry CA certificate: %w", err)
			}
			if cfg.RootCAs == nil {
				if cfg.RootCAs, err = x509.SystemCertPool(); err != nil {
					return fmt.Errorf("load the system's CA certificates to add %s to them: %w", path, err)
				}
			}
			cfg.RootCAs.AppendCertsFromPEM(pem)
		case ".cert":
			key := strings.TrimSuffix(e.Name(), ".cert") + ".key"
			if !has(key) {
				return fmt.Errorf("client certificate %s has no key %s beside it: add the key, or name a CA certificate *.crt", path, key)
			}
			pair, err := tls.LoadX509KeyPair(path, filepath.Join(dir, key))
			if err != nil {
				return fmt.Errorf("client certificate %s with key %s: %w", path, key, err)
			}
			cfg.Certificates = append(cfg.Certificates, pair)
		case ".key":
			cert := strings.TrimSuffix(e.Name(), ".key") + ".cert"
			if !has(cert) {
				return fmt.Errorf("key %s has no client certificate %s beside it: add the certificate, or remove the key", path, cert)
			}
		}
	}
	return nil
}
