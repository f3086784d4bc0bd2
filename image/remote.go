package image

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// RemoteOptions say how to reach a registry, for ImportRemote and
// WriteRemote. The zero value is what docker and crane do by default.
type RemoteOptions struct {
	// Insecure allows plain HTTP and TLS certificates that do not verify,
	// as crane's --insecure does.
	Insecure bool
	// Keychain finds credentials; nil means authn.DefaultKeychain, which
	// reads the docker config (~/.docker/config.json and its helpers).
	Keychain authn.Keychain
	// Transport carries the requests; nil means remote.DefaultTransport
	// with the TLS files of the registry's certs.d directory, as docker,
	// podman and skopeo read them (see remote_certsd.go).
	Transport http.RoundTripper
	// UserAgent is sent with every request, if set.
	UserAgent string
	// StallTimeout ends a request the registry has kept waiting this long
	// with nothing sent or received; zero waits for ever, as crane does.
	StallTimeout time.Duration
	// Sent, if set, is written every request-body byte the registry takes:
	// a caller that ends an upload stalled on peers sees it moving.
	Sent io.Writer
}

// parse reads a registry reference such as HOST/REPO:TAG or
// HOST/REPO@sha256:…; a bare name means Docker Hub, as docker pull has it.
func (o RemoteOptions) parse(ref string) (name.Reference, error) {
	var opts []name.Option
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(ref, opts...)
	if err != nil {
		return nil, fmt.Errorf("invalid registry reference %q: %v (want HOST/REPO:TAG or HOST/REPO@sha256:DIGEST)", ref, err)
	}
	if hostOnly(ref) {
		return nil, fmt.Errorf("%q names a registry but no repository (as written it means Docker Hub's library/%s): write %s/REPO:TAG", ref, ref, ref)
	}
	return r, nil
}

// hostOnly tells whether ref is HOST:PORT alone, such as 127.0.0.1:5000
// or localhost:5000. Docker's grammar reads it as repository HOST, tag
// PORT, on Docker Hub: a copy meant for a local registry would go to the
// internet instead. No Docker Hub repository is named like a host.
func hostOnly(ref string) bool {
	host, port, ok := strings.Cut(ref, ":")
	if !ok || strings.Contains(ref, "/") || port == "" || strings.Trim(port, "0123456789") != "" {
		return false
	}
	return host == "localhost" || strings.Contains(host, ".")
}

// Check tells whether ref is a registry reference WriteRemote and
// ImportRemote take, without dialing anything: a command that first waits
// for an image on peers says what is wrong with its destination at once.
// A certs.d directory that cannot be used is reported here too.
func (o RemoteOptions) Check(ref string) error {
	r, err := o.parse(ref)
	if err != nil {
		return err
	}
	_, err = o.transport(r.Context().Registry)
	return err
}

// remote is the ggcr options for talking to reg.
func (o RemoteOptions) remote(ctx context.Context, reg name.Registry) ([]remote.Option, error) {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc)}
	tr, err := o.transport(reg)
	if err != nil {
		return nil, err
	}
	tr = redirectLimit{next: manifestLimit{next: tr}}
	if o.StallTimeout > 0 {
		tr = &stallTransport{next: tr, limit: o.StallTimeout}
	}
	if o.Sent != nil {
		tr = &sentTransport{next: tr, w: o.Sent}
	}
	tr = &httpsFirst{next: tr, hosts: map[string]*httpsOutcome{}}
	opts = append(opts, remote.WithTransport(tr))
	if o.UserAgent != "" {
		opts = append(opts, remote.WithUserAgent(o.UserAgent))
	}
	return opts, nil
}

// transport carries requests for reg: o.Transport if set, else ggcr's
// default with reg's certs.d TLS files and --insecure applied. The one
// configuration serves every host the session reaches, the registry's
// token server and blob redirects too, as in docker and containers/image.
func (o RemoteOptions) transport(reg name.Registry) (http.RoundTripper, error) {
	if o.Transport != nil {
		return o.Transport, nil
	}
	cfg, err := registryTLS(reg)
	if err != nil {
		return nil, err
	}
	if o.Insecure {
		// Client certificates still go out: a registry may want one
		// whatever its own certificate is.
		if cfg == nil {
			cfg = &tls.Config{}
		}
		cfg.InsecureSkipVerify = true //nolint:gosec // the user asked for --insecure
	}
	if cfg == nil {
		return remote.DefaultTransport, nil
	}
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	return t, nil
}

// registryError says what to do next about the registry errors users meet
// most: a wrong name, missing credentials, a registry that is not there.
func registryError(ref name.Reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusNotFound:
			return fmt.Errorf("%s: not found in the registry (check the repository and tag): %w", ref, err)
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("%s: access denied; credentials come from the docker config, so try `docker login %s`: %w",
				ref, ref.Context().RegistryStr(), err)
		}
	}
	if msg := err.Error(); strings.Contains(msg, "docker-credential-") && strings.Contains(msg, "executable file not found") {
		return fmt.Errorf("%s: the docker config names a credential helper that is not installed: install it, or remove credsStore (or this registry's credHelpers entry) from the docker config: %w", ref, err)
	}
	if untrustedCert(err) {
		dir, _ := certsDir(ref.Context().Registry)
		return fmt.Errorf("%s: the registry's TLS certificate does not verify: put the CA that signed it in %s as a *.crt file (docker, podman and skopeo read it there too), or add it to the system's trusted certificates (or point SSL_CERT_FILE at it), or skip the check with --insecure: %w",
			ref, dir, err)
	}
	if clientCertRefused(err) {
		dir, _ := certsDir(ref.Context().Registry)
		return fmt.Errorf("%s: the registry wants a TLS client certificate it trusts: put one in %s as NAME.cert, with its key as NAME.key: %w", ref, dir, err)
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("%s: the registry speaks plain HTTP; use --insecure: %w", ref, err)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return fmt.Errorf("cannot reach registry %s (is it running, and is the address right?): %w", ref.Context().RegistryStr(), err)
	}
	return fmt.Errorf("%s: %w", ref, err)
}

// untrustedCert tells whether err is a TLS certificate that failed
// verification: signed by a CA the system does not trust, for another
// name, or expired.
func untrustedCert(err error) bool {
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid)
}

// clientCertRefused tells whether the registry ended the TLS session over
// the client's certificate: none sent, or one it does not trust. Go has
// no exported type for an alert the peer sent, only its text.
func clientCertRefused(err error) bool {
	return certAlert.MatchString(err.Error())
}

// certAlert matches the text of the alerts about a peer's certificate:
// "bad certificate", "certificate required", "unknown certificate
// authority" and the like.
var certAlert = regexp.MustCompile(`remote error: tls: [a-z ]*certificate`)
