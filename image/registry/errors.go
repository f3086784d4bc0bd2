package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	ipld "github.com/ipfs/go-ipld-format"

	"github.com/imgp2p/imgp2p/image"
)

// OCI distribution error codes the gateway answers with. The spec says a
// 4xx JSON body's code MUST be one of its list, so docker/distribution's
// RANGE_INVALID and PAGINATION_NUMBER_INVALID are not used.
const (
	codeNameUnknown     = "NAME_UNKNOWN"
	codeNameInvalid     = "NAME_INVALID"
	codeManifestUnknown = "MANIFEST_UNKNOWN"
	codeBlobUnknown     = "BLOB_UNKNOWN"
	codeDigestInvalid   = "DIGEST_INVALID"
	codeSizeInvalid     = "SIZE_INVALID"
	codeUnsupported     = "UNSUPPORTED"
	// Not in the OCI spec's list, which covers 4xx answers only, but
	// docker/distribution's for a 503.
	codeUnavailable = "UNAVAILABLE"
)

type regError struct {
	status  int
	code    string
	message string
}

func (e *regError) Error() string { return e.code + ": " + e.message }

func errorf(status int, code, message string) *regError {
	return &regError{status: status, code: code, message: message}
}

// writeError answers with the OCI error body, never an empty 404. HEAD
// responses carry the status alone, as HTTP requires.
func writeError(w http.ResponseWriter, r *http.Request, e *regError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	if r.Method == http.MethodHead {
		return
	}
	type item struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	json.NewEncoder(w).Encode(struct {
		Errors []item `json:"errors"`
	}{[]item{{e.code, e.message}}})
}

// fetchError answers a failed read of what, something the image lists or
// may list. Only a digest the image does not list, or an image whose
// metadata is more than any walk reads, is a 404: a client takes that as
// final, where it retries a 500 (containerd three times, each a walk of
// 64 MiB). Blocks that neither the repo nor a peer provided in time
// are a 503, which docker and containerd retry.
func (h *Handler) fetchError(ctx context.Context, err error, code, what string) *regError {
	switch {
	case errors.Is(err, image.ErrBlobNotInImage), errors.Is(err, image.ErrTooLargeForMetadata), errors.Is(err, image.ErrMetadataOverBudget):
		return errorf(http.StatusNotFound, code, err.Error())
	case errors.Is(context.Cause(ctx), errStalled):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, fmt.Sprintf("%s: no block arrived from the repo or from peers for %v", what, h.opts.StallTimeout))
	case ctx.Err() != nil, ipld.IsNotFound(err):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, fmt.Sprintf("%s: %v", what, err))
	}
	return errorf(http.StatusInternalServerError, code, fmt.Sprintf("%s: %v", what, err))
}
