package commands

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A client whose user pressed Ctrl-C mid-request ends with the
// cancellation, not with a guess that the daemon stopped or hung up.
func TestCancelledCallIsNotADaemonLost(t *testing.T) {
	c := fakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(headerLog, logProtocol)
		w.Write([]byte(`{"log":"fetching"}` + "\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	for _, cancelled := range []func(context.CancelCauseFunc){
		func(cancel context.CancelCauseFunc) { cancel(nil) },
		func(cancel context.CancelCauseFunc) { cancel(errors.New("interrupted")) },
	} {
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(200*time.Millisecond, func() { cancelled(cancel) })
		err := c.call(ctx, http.MethodPost, "/pull", nil, nil, nil)
		if err == nil || strings.Contains(err.Error(), "daemon stopped") || strings.Contains(err.Error(), "closed the connection") {
			t.Errorf("cancelled call: %v, want the cancellation", err)
		}
	}
}

// A daemon that refuses a push it is still being sent (a gzip bomb on
// stdin) answers with its error and hangs up: the client says that
// error, not that the daemon closed the connection.
func TestRefusedUploadSaysTheDaemonsError(t *testing.T) {
	// As serveLogged answers an op that failed before its first line.
	c := fakeDaemon(t, func(w http.ResponseWriter, r *http.Request) {
		serveLogged(w, r, func(ctx context.Context) (pushResult, error) {
			if r.URL.Query().Has("line") {
				logfFrom(ctx, nil)("reading the archive")
			}
			io.CopyN(io.Discard, r.Body, 1<<20)
			return pushResult{}, errors.New("layer decompresses past the limit")
		})
	})
	for i := 0; i < 20; i++ {
		body := io.LimitReader(zeros{}, 256<<20)
		path := "/push"
		if i%2 == 1 {
			path += "?line=1" // refused after a line: the logged stream
		}
		err := c.call(context.Background(), http.MethodPost, path, body, nil, nil)
		if err == nil || !strings.Contains(err.Error(), "decompresses past the limit") {
			t.Fatalf("refused upload %d: %v, want the daemon's error", i, err)
		}
	}
}

// fakeDaemon serves handle on an API socket of a temporary repo and
// returns a client dialed to it, logging nowhere.
func fakeDaemon(t *testing.T, handle http.HandlerFunc) *remoteBackend {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handle}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c, ok := dialDaemon(context.Background(), filepath.Dir(sock))
	if !ok {
		t.Fatal("no daemon on the socket")
	}
	c.logf = func(string, ...any) {}
	return c
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// A daemon being killed closes its connections before its listening
// socket: a client asking again at once connects into the backlog of a
// process that will never answer. That is a daemon gone, not one that
// ended the request itself.
func TestConnectionLostToADyingDaemon(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	// Never accepted, as by a process already exiting.
	c, ok := dialDaemon(context.Background(), filepath.Dir(sock))
	if !ok {
		t.Fatal("no socket to dial")
	}
	err = c.connectionLost(io.EOF)
	if err == nil || !strings.Contains(err.Error(), "the daemon stopped during the request") {
		t.Errorf("connection lost to a daemon whose socket connects but never answers: %v", err)
	}
}
