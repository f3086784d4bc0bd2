package registry

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// errStalled ends a request that made no progress for StallTimeout.
var errStalled = errors.New("no progress")

// progressWatch ends a request once it has gone StallTimeout without
// progress. Fetching counts as progress only once its bytes are written,
// so a block no peer sends ends the request (and the fetches under it),
// and so does a client that stops reading: each piece written (see
// writePiece) must be taken within StallTimeout, or the connection is
// dropped. Without this a stalled
// client kept its handler, and the blocks read ahead for it (up to
// 16 MiB), until the client went away, whatever Timeout said.
type progressWatch struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
	timer *time.Timer
}

// watchProgress wraps w and returns the context the request's work must
// use, and a function to call when the request is done.
func watchProgress(ctx context.Context, w http.ResponseWriter, stall time.Duration) (*progressWatch, context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	p := &progressWatch{ResponseWriter: w, rc: http.NewResponseController(w), stall: stall}
	p.timer = time.AfterFunc(stall, func() { cancel(errStalled) })
	// A deadline the previous request on this connection left must not
	// cut this one's first write short.
	p.rc.SetWriteDeadline(time.Time{})
	return p, ctx, func() {
		p.timer.Stop()
		cancel(nil)
	}
}

// writePiece is how much one deadline covers. A blocked write wakes only
// once the kernel's send buffer (up to a few MiB) has drained by a third,
// so a client reading steadily but slowly still shows progress piece by
// piece; one below about 10 KB/s drains too little in StallTimeout and is
// dropped.
const writePiece = 64 << 10

func (p *progressWatch) Write(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		piece := b[written:min(len(b), written+writePiece)]
		// ErrNotSupported (a ResponseWriter with no connection under it,
		// as in tests) leaves writes unbounded; the timer still ends the
		// fetches.
		p.rc.SetWriteDeadline(time.Now().Add(p.stall))
		n, err := p.ResponseWriter.Write(piece)
		written += n
		if err != nil {
			return written, err
		}
		p.timer.Reset(p.stall)
	}
	return written, nil
}

func (p *progressWatch) Unwrap() http.ResponseWriter { return p.ResponseWriter }
