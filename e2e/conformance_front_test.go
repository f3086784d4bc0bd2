package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// conformanceFront lets the OCI conformance suite, which pushes its own
// content before pulling it, test a read-only gateway. It is a registry
// made of two: every write goes to a scratch registry, and every read goes
// to imgp2p's gateway, as ipfs/<CID> of a root imported from all that was
// pushed to that repository so far. The suite's pull checks, with their
// byte-for-byte comparisons, thus run against the gateway; its push checks
// test the scratch registry and say nothing of imgp2p.
type conformanceFront struct {
	scratch   string // base URL of the scratch registry
	gatewayTo *httputil.ReverseProxy
	scratchTo *httputil.ReverseProxy
	// importLayout stores an OCI layout in the gateway's repo and returns
	// its root CID.
	importLayout func(dir string) (string, error)
	work         string

	mu    sync.Mutex
	repos map[string]*pushedRepo
	errs  []error
}

// pushedRepo is what the suite pushed to one repository, as the scratch
// registry accepted it.
type pushedRepo struct {
	manifests map[string]pushedManifest // by digest
	order     []string                  // manifest digests, first push first
	tags      map[string]string         // tag → manifest digest
	blobs     []string
	root      string // CID holding all of the above; "" once stale
}

type pushedManifest struct {
	body      []byte
	mediaType string
}

const emptyJSONDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

// registryPath splits /v2/<name>/<endpoint>/... into name and the rest.
var registryPath = regexp.MustCompile(`^/v2/(.+?)/((?:manifests|blobs|tags|referrers)/.*)$`)

// manifestBodyKey carries a manifest PUT's body to recordWrite.
type manifestBodyKey struct{}

func newConformanceFront(scratch, gateway *url.URL, work string, importLayout func(string) (string, error)) *conformanceFront {
	f := &conformanceFront{scratch: scratch.String(), importLayout: importLayout, work: work, repos: map[string]*pushedRepo{}}
	f.scratchTo = httputil.NewSingleHostReverseProxy(scratch) // keeps Host, so upload Locations name the front
	f.scratchTo.ModifyResponse = f.recordWrite
	f.gatewayTo = httputil.NewSingleHostReverseProxy(gateway)
	f.gatewayTo.ModifyResponse = f.renameLinks
	return f
}

func (f *conformanceFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	read := r.Method == http.MethodGet || r.Method == http.MethodHead
	m := registryPath.FindStringSubmatch(r.URL.Path)
	switch {
	case r.URL.Path == "/v2/" && read:
		f.gatewayTo.ServeHTTP(w, r)
	case m != nil && read && !strings.HasPrefix(m[2], "blobs/uploads/"):
		root, err := f.rootOf(r.Context(), m[1])
		if err != nil {
			f.fail(err)
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		r.URL.Path, r.URL.RawPath = "/v2/ipfs/"+root+"/"+m[2], ""
		r.Header.Set("X-Suite-Repo", m[1]) // for renameLinks; the gateway ignores it
		f.gatewayTo.ServeHTTP(w, r)
	default:
		if m != nil && r.Method == http.MethodPut && strings.HasPrefix(m[2], "manifests/") {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			r = r.WithContext(context.WithValue(r.Context(), manifestBodyKey{}, body))
		}
		f.scratchTo.ServeHTTP(w, r)
	}
}

// recordWrite notes each manifest and blob the scratch registry accepted.
func (f *conformanceFront) recordWrite(resp *http.Response) error {
	m := registryPath.FindStringSubmatch(resp.Request.URL.Path)
	if m == nil || resp.StatusCode != http.StatusCreated {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	pushed := f.record(m[1])
	switch {
	case strings.HasPrefix(m[2], "manifests/"):
		body, _ := resp.Request.Context().Value(manifestBodyKey{}).([]byte)
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(body))
		if _, ok := pushed.manifests[d]; !ok {
			pushed.order = append(pushed.order, d)
		}
		pushed.manifests[d] = pushedManifest{body, resp.Request.Header.Get("Content-Type")}
		if ref := strings.TrimPrefix(m[2], "manifests/"); !strings.Contains(ref, ":") {
			pushed.tags[ref] = d
		}
		// The front has a referrers API (the gateway's), so it says so
		// as the spec asks of a registry that has one; the scratch
		// registry, without one, does not.
		var probe struct {
			Subject *struct{ Digest string } `json:"subject"`
		}
		if json.Unmarshal(body, &probe) == nil && probe.Subject != nil {
			resp.Header.Set("OCI-Subject", probe.Subject.Digest)
		}
	case strings.HasPrefix(m[2], "blobs/uploads/"):
		d := resp.Header.Get("Docker-Content-Digest")
		if d == "" || slices.Contains(pushed.blobs, d) {
			return nil
		}
		pushed.blobs = append(pushed.blobs, d)
	default:
		return nil
	}
	pushed.root = ""
	return nil
}

// renameLinks turns the gateway's Link headers (tags/list pagination) back
// into the suite's repository name.
func (f *conformanceFront) renameLinks(resp *http.Response) error {
	if link := resp.Header.Get("Link"); link != "" {
		i := strings.Index(link, "/tags/")
		if i > 0 && strings.HasPrefix(link, "</v2/ipfs/") {
			resp.Header.Set("Link", "</v2/"+resp.Request.Header.Get("X-Suite-Repo")+link[i:])
		}
	}
	return nil
}

func (f *conformanceFront) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

// failures are the errors the front met importing what was pushed.
func (f *conformanceFront) failures() []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]error{}, f.errs...)
}

// record returns the record of a repository, new ones holding a
// placeholder artifact: imgp2p has no empty repositories, and the suite
// asks for the tags and referrers of its repositories before pushing.
func (f *conformanceFront) record(name string) *pushedRepo {
	if r, ok := f.repos[name]; ok {
		return r
	}
	placeholder := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"artifactType":"application/vnd.imgp2p.placeholder","config":{"mediaType":"application/vnd.oci.empty.v1+json",` +
		`"digest":"` + emptyJSONDigest + `","size":2},"layers":[]}`)
	d := fmt.Sprintf("sha256:%x", sha256.Sum256(placeholder))
	r := &pushedRepo{
		manifests: map[string]pushedManifest{d: {placeholder, "application/vnd.oci.image.manifest.v1+json"}},
		order:     []string{d},
		tags:      map[string]string{},
	}
	f.repos[name] = r
	return r
}
