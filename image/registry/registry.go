// Package registry is a read-only OCI distribution registry over image
// roots: `docker pull HOST/ipfs/<CID>` and `FROM HOST/ipfs/<CID>` work
// against it, as against nerdctl's `ipfs registry serve`. Repositories are
// named ipfs/<CID>; blobs stream as their blocks arrive, and a range
// request fetches only the blocks it covers.
package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/imgp2p/imgp2p/image"
)

// Options configure a gateway.
type Options struct {
	// DAG reads image roots; it may fetch from peers.
	DAG ipld.DAGService
	// Timeout bounds each request, from first byte in to last byte out.
	Timeout time.Duration
	// ResolveTimeout bounds finding a root that is not in the repo.
	ResolveTimeout time.Duration
	// StallTimeout ends a request that goes this long without writing a
	// byte: no block arrived from peers, or the client stopped reading.
	StallTimeout time.Duration
	// Served is told of each root whose manifest the gateway serves, so
	// the caller can list it in the repo, before the manifest is written:
	// it must not block. It may be nil.
	Served func(ctx context.Context, root *image.Root)
}

// Handler serves the pull side of the OCI distribution spec.
type Handler struct {
	opts Options

	mu    sync.Mutex
	roots map[string]*image.Root // by CID string; small, bounded
}

const maxCachedRoots = 64

// New returns a gateway handler.
func New(opts Options) *Handler {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Minute
	}
	if opts.ResolveTimeout == 0 {
		opts.ResolveTimeout = time.Minute
	}
	if opts.StallTimeout == 0 {
		opts.StallTimeout = 2 * time.Minute
	}
	return &Handler{opts: opts, roots: map[string]*image.Root{}}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.opts.Timeout)
	defer cancel()
	w, ctx, done := watchProgress(ctx, w, h.opts.StallTimeout)
	defer done()
	r = r.WithContext(ctx)
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, r, errorf(http.StatusMethodNotAllowed, codeUnsupported, "this registry is read-only"))
		return
	}
	if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
		return
	}
	req, rerr := parsePath(r.URL.Path)
	if rerr != nil {
		writeError(w, r, rerr)
		return
	}
	root, rerr := h.root(ctx, req.root)
	if rerr != nil {
		writeError(w, r, rerr)
		return
	}
	// Resolving a tag reads every manifest it may name, and tags/list
	// every manifest index.json lists: each request's reads are bounded
	// as a pull's are.
	root = root.Budgeted()
	switch req.kind {
	case kindManifest:
		rerr = h.manifest(w, r, root, req.ref)
	case kindBlob:
		rerr = h.blob(w, r, root, req.ref)
	case kindTags:
		rerr = h.tags(w, r, root)
	case kindReferrers:
		rerr = h.referrers(w, r, root, req.ref)
	}
	if rerr != nil {
		writeError(w, r, rerr)
	}
}

// root opens (or recalls) an image root.
func (h *Handler) root(ctx context.Context, c cid.Cid) (*image.Root, *regError) {
	key := c.String()
	h.mu.Lock()
	root, ok := h.roots[key]
	h.mu.Unlock()
	if ok {
		return root, nil
	}
	octx, cancel := context.WithTimeout(ctx, h.opts.ResolveTimeout)
	defer cancel()
	root, err := image.Open(octx, h.opts.DAG, c)
	switch {
	case errors.Is(err, image.ErrNotImage):
		return nil, errorf(http.StatusNotFound, codeNameUnknown, err.Error())
	case ipld.IsNotFound(err):
		return nil, errorf(http.StatusNotFound, codeNameUnknown, "ipfs/"+key+" could not be found in the repo or from peers")
	case octx.Err() != nil:
		// Online, a root no peer has sent yet may still come (a peer
		// not yet connected, a provider not yet found): a 503, which
		// clients retry, where a 404 would tell them it does not exist.
		return nil, errorf(http.StatusServiceUnavailable, codeUnavailable, fmt.Sprintf("ipfs/%s: no peer provided it within %v; is a peer that holds it reachable?", key, h.opts.ResolveTimeout))
	case err != nil:
		return nil, errorf(http.StatusInternalServerError, codeNameUnknown, err.Error())
	}
	h.mu.Lock()
	if len(h.roots) >= maxCachedRoots {
		for k := range h.roots {
			delete(h.roots, k)
			break
		}
	}
	h.roots[key] = root
	h.mu.Unlock()
	return root, nil
}

type kind int

const (
	kindManifest kind = iota
	kindBlob
	kindTags
	kindReferrers
)

type request struct {
	root cid.Cid
	kind kind
	ref  string
}

// parsePath reads /v2/ipfs/<cid>/{manifests/<ref>|blobs/<digest>|tags/list|referrers/<digest>}.
func parsePath(p string) (request, *regError) {
	rest, ok := strings.CutPrefix(p, "/v2/")
	if !ok {
		return request{}, errorf(http.StatusNotFound, codeNameUnknown, "not a registry path: "+p)
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 4 || parts[0] != "ipfs" {
		return request{}, errorf(http.StatusNotFound, codeNameUnknown, "repositories here are named ipfs/<CID>")
	}
	c, err := cid.Decode(parts[1])
	if err != nil {
		return request{}, errorf(http.StatusBadRequest, codeNameInvalid, "ipfs/"+parts[1]+": not a CID")
	}
	req := request{root: c}
	switch tail := parts[2:]; {
	case len(tail) == 2 && tail[0] == "manifests" && tail[1] != "":
		req.kind, req.ref = kindManifest, tail[1]
	case len(tail) == 2 && tail[0] == "blobs" && tail[1] != "":
		req.kind, req.ref = kindBlob, tail[1]
	case len(tail) == 2 && tail[0] == "tags" && tail[1] == "list":
		req.kind = kindTags
	case len(tail) == 2 && tail[0] == "referrers" && tail[1] != "":
		req.kind, req.ref = kindReferrers, tail[1]
	default:
		return request{}, errorf(http.StatusNotFound, codeNameUnknown, "unknown endpoint "+p)
	}
	return req, nil
}
