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
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
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

// rootOf returns the CID of a root holding all that was pushed to the
// repository, importing a new one if anything was pushed since the last.
func (f *conformanceFront) rootOf(ctx context.Context, name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pushed := f.record(name)
	if pushed.root != "" {
		return pushed.root, nil
	}
	dir, err := os.MkdirTemp(f.work, "layout")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if err := f.writeLayout(ctx, dir, name, pushed); err != nil {
		return "", fmt.Errorf("layout of %s: %w", name, err)
	}
	if pushed.root, err = f.importLayout(dir); err != nil {
		return "", fmt.Errorf("importing %s: %w", name, err)
	}
	return pushed.root, nil
}

// writeLayout writes an OCI layout of the repository: index.json lists
// every manifest pushed, each tag as a ref name, and the blobs no manifest
// names (the suite pushes blobs alone and pulls them back) as the layers
// of one more manifest, since a root holds only what its manifests name.
func (f *conformanceFront) writeLayout(ctx context.Context, dir, name string, pushed *pushedRepo) error {
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return err
	}
	write := func(d string, b []byte) error {
		return os.WriteFile(filepath.Join(blobs, strings.TrimPrefix(d, "sha256:")), b, 0o644)
	}
	if err := write(emptyJSONDigest, []byte("{}")); err != nil {
		return err
	}
	named := map[string]bool{emptyJSONDigest: true}
	for d, m := range pushed.manifests {
		if err := write(d, m.body); err != nil {
			return err
		}
		var refs struct {
			Config    *struct{ Digest string }  `json:"config"`
			Layers    []struct{ Digest string } `json:"layers"`
			Manifests []struct{ Digest string } `json:"manifests"`
		}
		json.Unmarshal(m.body, &refs)
		if refs.Config != nil {
			named[refs.Config.Digest] = true
		}
		for _, l := range append(refs.Layers, refs.Manifests...) {
			named[l.Digest] = true
		}
	}
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int               `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	var loose []descriptor
	for _, d := range pushed.blobs {
		b, err := f.scratchBlob(ctx, name, d)
		if err != nil {
			return err
		}
		if err := write(d, b); err != nil {
			return err
		}
		if _, isManifest := pushed.manifests[d]; !named[d] && !isManifest {
			loose = append(loose, descriptor{"application/octet-stream", d, len(b), nil})
		}
	}
	var entries []descriptor
	tagged := map[string]bool{}
	var tags []string
	for t := range pushed.tags {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	for _, t := range tags {
		d := pushed.tags[t]
		tagged[d] = true
		m := pushed.manifests[d]
		entries = append(entries, descriptor{m.mediaType, d, len(m.body), map[string]string{"org.opencontainers.image.ref.name": t}})
	}
	for _, d := range pushed.order {
		if m := pushed.manifests[d]; !tagged[d] {
			entries = append(entries, descriptor{m.mediaType, d, len(m.body), nil})
		}
	}
	if len(loose) > 0 {
		holder, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
			"artifactType": "application/vnd.imgp2p.loose-blobs",
			"config":       descriptor{"application/vnd.oci.empty.v1+json", emptyJSONDigest, 2, nil},
			"layers":       loose,
		})
		d := fmt.Sprintf("sha256:%x", sha256.Sum256(holder))
		if err := write(d, holder); err != nil {
			return err
		}
		entries = append(entries, descriptor{"application/vnd.oci.image.manifest.v1+json", d, len(holder), nil})
	}
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
}

func (f *conformanceFront) scratchBlob(ctx context.Context, name, d string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.scratch+"/v2/"+name+"/blobs/"+d, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scratch registry: blob %s of %s: %s", d, name, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
