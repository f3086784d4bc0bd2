package commands

import (
	"context"
	"errors"
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
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(headerLog, logProtocol)
		w.Write([]byte(`{"log":"fetching"}` + "\n"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	c, ok := dialDaemon(context.Background(), filepath.Dir(sock))
	if !ok {
		t.Fatal("no daemon on the socket")
	}
	c.logf = func(string, ...any) {}
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
