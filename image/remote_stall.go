package image

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// stallTransport ends a request once the registry has kept it waiting for
// limit: no response headers, and no byte of the request or response body
// moved. Neither Go's transport nor ggcr has such a bound, so a registry
// that accepts a connection and then says nothing (a hung server, a
// half-dead proxy) held a push or copy forever. Only time spent waiting on
// the registry counts: a request body that waits on peers for its next
// block, or a response body its reader has not asked for more of, does
// not stall the registry.
type stallTransport struct {
	next  http.RoundTripper
	limit time.Duration
}

// stallError says that the registry stopped answering; it is not
// temporary, so ggcr does not retry it and a stalled registry costs one
// limit, not one per retry.
type stallError struct {
	Host  string
	Limit time.Duration
}

func (e *stallError) Error() string {
	return fmt.Sprintf("registry %s sent and accepted nothing for %s; check that it is healthy and retry, or raise --timeout", e.Host, e.Limit)
}

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	w := &stallWatch{limit: t.limit, cancel: cancel, err: &stallError{Host: req.URL.Host, Limit: t.limit}}
	w.timer = time.AfterFunc(t.limit, w.fire)
	req = req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = &stallRequestBody{ReadCloser: req.Body, w: w}
	}
	w.waiting()
	resp, err := t.next.RoundTrip(req)
	w.idle()
	if err != nil {
		w.stop()
		if w.stalled() {
			return nil, w.err
		}
		return nil, err
	}
	resp.Body = &stallResponseBody{ReadCloser: resp.Body, w: w}
	return resp, nil
}

// stallWatch cancels a request once it has been waiting on the registry
// for limit without progress.
type stallWatch struct {
	limit  time.Duration
	cancel context.CancelFunc
	err    *stallError

	mu       sync.Mutex
	timer    *time.Timer
	deadline time.Time // zero while the request waits on us, not the registry
	fired    bool
	done     bool
}

// waiting starts the clock afresh: the registry has the next move.
func (w *stallWatch) waiting() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fired || w.done {
		return
	}
	w.deadline = time.Now().Add(w.limit)
	w.timer.Reset(w.limit)
}

// idle stops the clock: the next move is ours.
func (w *stallWatch) idle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.deadline = time.Time{}
	w.timer.Stop()
}

func (w *stallWatch) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	// A timer reset while this call waited for the lock fires again later.
	if w.fired || w.deadline.IsZero() || time.Now().Before(w.deadline) {
		return
	}
	w.fired = true
	w.cancel()
}

func (w *stallWatch) stalled() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fired
}

// stop ends the watch and releases the request's context.
func (w *stallWatch) stop() {
	w.mu.Lock()
	w.done = true
	w.deadline = time.Time{}
	w.timer.Stop()
	w.mu.Unlock()
	w.cancel()
}

// stallRequestBody stops the clock while the transport waits for the body
// (it may be streaming from peers), and restarts it once a piece is handed
// over: the registry must take it.
type stallRequestBody struct {
	io.ReadCloser
	w *stallWatch
}

func (b *stallRequestBody) Read(p []byte) (int, error) {
	b.w.idle()
	n, err := b.ReadCloser.Read(p)
	b.w.waiting()
	return n, err
}

// stallResponseBody runs the clock only while a Read waits on the registry.
type stallResponseBody struct {
	io.ReadCloser
	w *stallWatch
}

func (b *stallResponseBody) Read(p []byte) (int, error) {
	b.w.waiting()
	n, err := b.ReadCloser.Read(p)
	b.w.idle()
	if err != nil && err != io.EOF && b.w.stalled() {
		return n, b.w.err
	}
	return n, err
}

func (b *stallResponseBody) Close() error {
	err := b.ReadCloser.Close()
	b.w.stop()
	return err
}
