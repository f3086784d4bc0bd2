package image

import (
	"io"
	"net/http"
)

// sentTransport copies to w the count of every request-body byte the
// registry is handed, so that a caller watching for stalls sees an upload
// moving. The bytes themselves are not copied: only their number matters.
type sentTransport struct {
	next http.RoundTripper
	w    io.Writer
}

func (t *sentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = &sentBody{ReadCloser: req.Body, w: t.w}
	}
	return t.next.RoundTrip(req)
}

type sentBody struct {
	io.ReadCloser
	w io.Writer
}

func (b *sentBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.Write(p[:n])
	}
	return n, err
}
