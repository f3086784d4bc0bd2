package registry

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/imgp2p/imgp2p/image"
)

// manifest serves a manifest or index by tag or digest, with the media
// type it declares and its bytes exactly as stored.
func (h *Handler) manifest(w http.ResponseWriter, r *http.Request, root *image.Root, ref string) *regError {
	raw, rerr := h.resolveManifest(r, root, ref)
	if rerr != nil {
		return rerr
	}
	mt := mediaTypeOf(raw)
	if mt == "" {
		return errorf(http.StatusNotFound, codeManifestUnknown, ref+" is not a manifest")
	}
	if h.opts.Served != nil {
		h.opts.Served(r.Context(), root)
	}
	digest := digestOf(raw)
	w.Header().Set("Content-Type", string(mt))
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Etag", etagOf(digest))
	if notModified(w, r, etagOf(digest)) {
		return nil
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(raw)))
	if r.Method == http.MethodGet {
		w.Write(raw)
	}
	return nil
}

func (h *Handler) resolveManifest(r *http.Request, root *image.Root, ref string) ([]byte, *regError) {
	if strings.Contains(ref, ":") {
		d, rerr := parseDigest(ref, codeManifestUnknown)
		if rerr != nil {
			return nil, rerr
		}
		return h.manifestByDigest(r, root, d)
	}
	descs, err := entriesTagged(r.Context(), root, ref)
	if err != nil {
		return nil, h.fetchError(r.Context(), err, codeManifestUnknown, "tag "+ref)
	}
	distinct := distinctDigests(descs)
	switch {
	case len(distinct) == 1:
		raw, err := root.ReadManifest(r.Context(), distinct[0].Digest)
		if err != nil {
			return nil, h.fetchError(r.Context(), err, codeManifestUnknown, "manifest "+distinct[0].Digest.String())
		}
		return raw, nil
	case ambiguous(distinct):
		tags, _ := tagsOf(r.Context(), root) // for the message alone: on failure it lists none
		return nil, errorf(http.StatusNotFound, codeManifestUnknown, fmt.Sprintf(
			"%q names %d different images in ipfs/%s, some of them multi-platform; pull one by tag (%s) or by digest (%s)",
			ref, len(distinct), root.CID, strings.Join(tags, ", "), strings.Join(digestsOf(distinct), ", ")))
	case len(descs) > 1 && ref == "latest" && len(descs) == len(root.Index().Manifests):
		// Several images, no single one named: the layout's own index is
		// the image index a client picks its platform from.
		return root.IndexJSON(), nil
	case len(descs) > 1:
		return synthesizedIndex(descs), nil
	}
	return nil, errorf(http.StatusNotFound, codeManifestUnknown, fmt.Sprintf("tag %q is not in ipfs/%s", ref, root.CID))
}

// manifestByDigest finds a manifest among the root's blobs, its
// index.json, or the indexes synthesized for its tags.
func (h *Handler) manifestByDigest(r *http.Request, root *image.Root, d v1.Hash) ([]byte, *regError) {
	if digestOf(root.IndexJSON()) == d.String() {
		return root.IndexJSON(), nil
	}
	raw, err := root.ReadManifest(r.Context(), d)
	if err == nil {
		return raw, nil
	}
	if !errors.Is(err, image.ErrBlobNotInImage) && !errors.Is(err, image.ErrTooLargeForMetadata) {
		return nil, h.fetchError(r.Context(), err, codeManifestUnknown, "manifest "+d.String())
	}
	tags, err := tagsOf(r.Context(), root)
	if err != nil {
		return nil, h.fetchError(r.Context(), err, codeManifestUnknown, "manifest "+d.String())
	}
	for _, tag := range tags {
		descs, err := entriesTagged(r.Context(), root, tag)
		if err != nil {
			return nil, h.fetchError(r.Context(), err, codeManifestUnknown, "manifest "+d.String())
		}
		if len(descs) > 1 {
			if idx := synthesizedIndex(descs); digestOf(idx) == d.String() {
				return idx, nil
			}
		}
	}
	return nil, errorf(http.StatusNotFound, codeManifestUnknown, fmt.Sprintf("manifest %s is not in ipfs/%s", d, root.CID))
}

// mediaTypeOf reads the media type a manifest or index declares, or infers
// it for those that declare none; "" when raw is neither.
func mediaTypeOf(raw []byte) types.MediaType {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
		Config    json.RawMessage `json:"config"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return ""
	}
	switch {
	case probe.MediaType.IsIndex() || probe.MediaType.IsImage() || probe.MediaType == types.OCIManifestSchema1:
		return probe.MediaType
	case probe.MediaType != "":
		return ""
	case probe.Manifests != nil:
		return types.OCIImageIndex
	case probe.Config != nil:
		return types.OCIManifestSchema1
	}
	return ""
}

func digestOf(raw []byte) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256(raw))
}
