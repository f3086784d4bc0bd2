package image

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	mdtest "github.com/ipfs/boxo/ipld/merkledag/test"
)

const stallLimit = time.Second

// largestBlob is the digest of the largest blob of the layout at dir.
func largestBlob(t *testing.T, dir string) v1.Hash {
	t.Helper()
	var best v1.Hash
	var size int64 = -1
	blobs, _ := filepath.Glob(filepath.Join(dir, "blobs", "sha256", "*"))
	for _, b := range blobs {
		if st, err := os.Stat(b); err == nil && st.Size() > size {
			best, size = v1.Hash{Algorithm: "sha256", Hex: filepath.Base(b)}, st.Size()
		}
	}
	return best
}

// hangUntilDone blocks a handler until the client gives up or the test
// ends, so that only the client's own bound can end the request. Call it
// after newRegistry: cleanups run last first, and the server's Close waits
// for handlers that, holding an unread body, never see the client go.
func hangUntilDone(t *testing.T) func(*http.Request) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
}

// checkStalled fails unless err says the registry stalled, and came
// well before the test's own deadline would have ended the wait.
func checkStalled(t *testing.T, err error, took time.Duration) {
	t.Helper()
	var se *stallError
	if !errors.As(err, &se) {
		t.Fatalf("after %s: %v; want the registry reported as stalled", took, err)
	}
	if !strings.Contains(err.Error(), "raise --timeout") {
		t.Errorf("the error does not say what to do: %v", err)
	}
}

func TestRemoteStallEndsRequests(t *testing.T) {
	dir := writeLayout(t)
	victim := largestBlob(t, dir)

	t.Run("silent", func(t *testing.T) {
		// Accepts connections and never answers: not even TLS's
		// handshake timeout ends the plain-HTTP attempt.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go func() {
			var conns []net.Conn
			defer func() {
				for _, c := range conns {
					c.Close()
				}
			}()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				conns = append(conns, c)
			}
		}()
		took, err := importWithin(t, ln.Addr().String()+"/multi:v1")
		checkStalled(t, err, took)
	})

	t.Run("blob", func(t *testing.T) {
		var hang func(*http.Request)
		host := newRegistry(t, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+victim.String()) {
					w.Header().Set("Content-Length", "3145728")
					w.WriteHeader(http.StatusOK)
					w.Write(bytes.Repeat([]byte{0}, 1024))
					w.(http.Flusher).Flush()
					hang(r)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
		hang = hangUntilDone(t)
		upload(t, dir, host+"/multi:v1")
		took, err := importWithin(t, host+"/multi:v1")
		checkStalled(t, err, took)
	})

	t.Run("upload", func(t *testing.T) {
		var hang func(*http.Request)
		host := newRegistry(t, func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// Takes no byte of an upload and never answers it.
				if (r.Method == http.MethodPatch || r.Method == http.MethodPut) && strings.Contains(r.URL.Path, "/blobs/uploads/") {
					hang(r)
					return
				}
				next.ServeHTTP(w, r)
			})
		})
		hang = hangUntilDone(t)
		ctx := context.Background()
		exp := pushAndPlan(ctx, t, dir)
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		start := time.Now()
		_, err := exp.WriteRemote(ctx, host+"/copy:v1", RemoteOptions{StallTimeout: stallLimit})
		checkStalled(t, err, time.Since(start))
	})
}

// A registry that is slow but keeps sending is no stall, however long
// the whole blob takes.
func TestRemoteSlowButMovingIsNoStall(t *testing.T) {
	dir := writeLayout(t)
	victim := largestBlob(t, dir)
	host := newRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+victim.String()) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			w.Header().Set("Content-Length", rec.Header().Get("Content-Length"))
			w.WriteHeader(rec.Code)
			// Four pieces, each well within the limit, the whole beyond it.
			piece := len(body)/4 + 1
			for len(body) > 0 {
				n := min(piece, len(body))
				w.Write(body[:n])
				w.(http.Flusher).Flush()
				body = body[n:]
				time.Sleep(stallLimit / 2) // the slowness under test, not synchronisation
			}
		})
	})
	upload(t, dir, host+"/multi:v1")
	start := time.Now()
	if _, err := ImportRemote(context.Background(), mdtest.Mock(), host+"/multi:v1", ImportOptions{}, RemoteOptions{StallTimeout: stallLimit}); err != nil {
		t.Fatalf("a slow registry failed the push after %s: %v", time.Since(start), err)
	}
	if took := time.Since(start); took < stallLimit {
		t.Fatalf("the slow blob took %s, less than the limit: the test proves nothing", took)
	}
}

// importWithin imports ref with a stall limit, under a deadline far
// beyond it that only ends a test whose client waits for ever.
func importWithin(t *testing.T, ref string) (time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := ImportRemote(ctx, mdtest.Mock(), ref, ImportOptions{}, RemoteOptions{StallTimeout: stallLimit})
	return time.Since(start), err
}
