package registry

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imgp2p/imgp2p/image"
)

// blob serves a blob whole or, for a single byte range, the blocks that
// cover that range and nothing more. Bytes stream as blocks arrive.
func (h *Handler) blob(w http.ResponseWriter, r *http.Request, root *image.Root, ref string) *regError {
	d, rerr := parseDigest(ref, codeBlobUnknown)
	if rerr != nil {
		return rerr
	}
	ctx := r.Context()
	size, err := root.BlobSize(ctx, d)
	if err != nil {
		return h.fetchError(ctx, err, codeBlobUnknown, "blob "+d.String())
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Docker-Content-Digest", d.String())
	etag := etagOf(d.String())
	hdr.Set("Etag", etag)
	hdr.Set("Accept-Ranges", "bytes")
	if notModified(w, r, etag) {
		return nil
	}
	rng := rangeOf(r, etag)
	start, end, partial, ok := parseRange(rng, size)
	if !ok {
		hdr.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		// The spec lists no code for a range: SIZE_INVALID ("provided
		// length did not match content length") is the nearest.
		return errorf(http.StatusRequestedRangeNotSatisfiable, codeSizeInvalid, fmt.Sprintf("range %q is outside the blob's %d bytes", rng, size))
	}
	hdr.Set("Content-Length", strconv.FormatInt(end-start, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return nil
	}
	// The status goes out with the first byte, once that byte is known
	// good: a blob that fails before then (damaged on disk, unreachable)
	// gets an error response rather than a 200 and a cut connection.
	lw := &lazyStatus{w: w, status: status}
	if partial {
		err = root.WriteBlobRange(ctx, d, start, end-start, lw)
	} else {
		err = root.WriteBlob(ctx, v1.Descriptor{Digest: d, Size: size}, lw)
	}
	switch {
	case err != nil && !lw.sent:
		hdr.Del("Content-Length")
		hdr.Del("Content-Range")
		hdr.Del("Docker-Content-Digest")
		hdr.Del("Etag")
		return h.fetchError(ctx, err, codeBlobUnknown, "blob "+d.String()+" cannot be served")
	case err != nil:
		// The status is sent: the only honest signal left is to cut the
		// connection, so the client sees a short body, never a wrong one.
		panic(http.ErrAbortHandler)
	case !lw.sent:
		w.WriteHeader(status) // an empty body
	}
	return nil
}

// lazyStatus sends the response status just before the first body byte.
type lazyStatus struct {
	w      http.ResponseWriter
	status int
	sent   bool
}

func (l *lazyStatus) Write(p []byte) (int, error) {
	if !l.sent {
		l.sent = true
		l.w.WriteHeader(l.status)
	}
	return l.w.Write(p)
}

// parseRange reads a single "bytes=" range against size, returning the
// half-open span. Several ranges are answered with the whole blob, which
// HTTP allows. ok is false for a range that cannot be satisfied.
func parseRange(header string, size int64) (start, end int64, partial, ok bool) {
	spec, found := strings.CutPrefix(header, "bytes=")
	if header == "" || !found || strings.Contains(spec, ",") {
		return 0, size, false, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, false
	}
	if first == "" { // suffix: the last N bytes
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n <= 0 {
			return 0, 0, false, false
		}
		return max(0, size-n), size, true, size > 0
	}
	s, err := strconv.ParseInt(first, 10, 64)
	if err != nil || s < 0 || s >= size {
		return 0, 0, false, false
	}
	e := size - 1
	if last != "" {
		if e, err = strconv.ParseInt(last, 10, 64); err != nil || e < s {
			return 0, 0, false, false
		}
		e = min(e, size-1)
	}
	return s, e + 1, true, true
}
