package commands

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lineLog collects the lines a client prints, and tells who waits for one
// that it has come.
type lineLog struct {
	mu    sync.Mutex
	lines []string
	got   chan struct{}
}

func newLineLog() *lineLog { return &lineLog{got: make(chan struct{}, 16)} }

func (l *lineLog) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
	l.got <- struct{}{}
}

func (l *lineLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// awaitLine returns once the client has printed a line, failing the test
// if none comes: a line held back until the result would never come.
func (l *lineLog) awaitLine(t *testing.T) {
	select {
	case <-l.got:
	case <-time.After(10 * time.Second):
		t.Error("the client printed no line while the request ran")
	}
}

// clientFor is a remoteBackend talking to srv.
func clientFor(srv *httptest.Server, logf func(string, ...any)) *remoteBackend {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", srv.Listener.Addr().String())
	}}
	return &remoteBackend{http: &http.Client{Transport: tr}, logf: logf}
}

func TestLoggedCall(t *testing.T) {
	want := copyResult{Digest: "sha256:abc"}
	for _, c := range []struct {
		name    string
		lines   int    // lines op logs, each once the client printed the one before
		err     string // op's error
		wantErr string
	}{
		{name: "lines then a result", lines: 2},
		{name: "lines then an error", lines: 1, err: "no peer provided it", wantErr: "no peer provided it"},
		{name: "no line, an error", err: "bad ref", wantErr: "bad ref"},
		{name: "no line, a result", lines: 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			client := newLineLog()
			var daemon []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				serveLogged(w, r, func(ctx context.Context) (copyResult, error) {
					logf := logfFrom(ctx, func(f string, a ...any) { daemon = append(daemon, fmt.Sprintf(f, a...)) })
					for i := range c.lines {
						logf("waiting %d", i)
						client.awaitLine(t)
					}
					if c.err != "" {
						return copyResult{}, errors.New(c.err)
					}
					return want, nil
				})
			}))
			defer srv.Close()
			var got copyResult
			err := clientFor(srv, client.logf).call(t.Context(), http.MethodPost, "/copy", http.NoBody, nil, &got)
			if c.wantErr != "" {
				if err == nil || err.Error() != c.wantErr {
					t.Errorf("error %v, want %q", err, c.wantErr)
				}
			} else if err != nil || got.Digest != want.Digest {
				t.Errorf("got %+v, %v; want %+v", got, err, want)
			}
			wantLines := []string{}
			for i := range c.lines {
				wantLines = append(wantLines, fmt.Sprintf("waiting %d", i))
			}
			if client.text() != strings.Join(wantLines, "\n") || len(daemon) != 0 {
				t.Errorf("client printed %q, daemon %q; want the client %q", client.text(), daemon, wantLines)
			}
		})
	}
}

// An older client does not ask for lines: it gets the plain JSON it always
// did, and the lines stay on the daemon's stderr.
func TestLoggedCallOldClient(t *testing.T) {
	var daemon []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveLogged(w, r, func(ctx context.Context) (copyResult, error) {
			logfFrom(ctx, func(f string, a ...any) { daemon = append(daemon, fmt.Sprintf(f, a...)) })("waiting")
			return copyResult{Digest: "sha256:abc"}, nil
		})
	}))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/copy", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got copyResult
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || got.Digest != "sha256:abc" || resp.Header.Get(headerLog) != "" {
		t.Errorf("an old client got %+v (%v), %s: %q", got, err, headerLog, resp.Header.Get(headerLog))
	}
	if len(daemon) != 1 {
		t.Errorf("the daemon printed %q, want its line", daemon)
	}
}

// An older daemon ignores the request header and answers plain JSON.
func TestLoggedCallOldDaemon(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, copyResult{Digest: "sha256:abc"}, nil)
	}))
	defer srv.Close()
	var got copyResult
	if err := clientFor(srv, nil).call(t.Context(), http.MethodPost, "/copy", http.NoBody, nil, &got); err != nil || got.Digest != "sha256:abc" {
		t.Errorf("got %+v, %v", got, err)
	}
}

// fakeFdDaemon answers one /pull-to-fd on a unix socket as a daemon does:
// it writes "tar1", then (if it sends lines and the client asked) a line
// it waits for the client to print, then "tar2" and the outcome.
func fakeFdDaemon(t *testing.T, sendsLines bool, client *lineLog) string {
	sock := filepath.Join(t.TempDir(), "api.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		uc := conn.(*net.UnixConn)
		r, err := http.ReadRequest(bufio.NewReader(uc))
		if err != nil {
			t.Error(err)
			return
		}
		logs := sendsLines && r.Header.Get(headerLog) == logProtocol
		head := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + fdUpgrade + "\r\n"
		if logs {
			head += headerLog + ": " + logProtocol + "\r\n"
		}
		uc.Write([]byte(head + "\r\n"))
		out, err := receiveFile(uc)
		if err != nil {
			t.Error(err)
			return
		}
		defer out.Close()
		out.Write([]byte("tar1"))
		enc := json.NewEncoder(uc)
		if logs {
			enc.Encode(apiMessage{Log: "no data for 5s: reconnecting to peers"})
			client.awaitLine(t)
		}
		out.Write([]byte("tar2"))
		enc.Encode(pullOutcome{Summary: &pullSummary{Size: 8}})
	}()
	return sock
}

// A pull into a writer that is not a file (progress bars, a directory):
// the client copies from a pipe the daemon writes, and prints the lines
// the daemon sends mid-stream as they come; an older daemon that sends
// none is read as before.
func TestPullToFdLines(t *testing.T) {
	for _, sendsLines := range []bool{true, false} {
		t.Run(fmt.Sprintf("daemon sends lines %v", sendsLines), func(t *testing.T) {
			client := newLineLog()
			c := &remoteBackend{socket: fakeFdDaemon(t, sendsLines, client), logf: client.logf}
			var out strings.Builder
			sum, err := c.Pull(t.Context(), pullRequest{Root: "x"}, &out)
			if err != nil || sum.Size != 8 || out.String() != "tar1tar2" {
				t.Fatalf("got %q, %+v, %v", out.String(), sum, err)
			}
			want := ""
			if sendsLines {
				want = "no data for 5s: reconnecting to peers"
			}
			if client.text() != want {
				t.Errorf("client printed %q, want %q", client.text(), want)
			}
		})
	}
}

// A push streams its archive as the request body: a line sent while the
// daemon still reads it must not cut the body short. (net/http, unless
// told the exchange is full duplex, discards up to 256 KiB of a body left
// unread when the response starts, and closes a longer one.)
func TestLoggedCallLineMidBody(t *testing.T) {
	for _, size := range []int{200 << 10, 4 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			body := bytes.Repeat([]byte{'x'}, size)
			client := newLineLog()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				serveLogged(w, r, func(ctx context.Context) (pushResult, error) {
					head := make([]byte, 64<<10)
					if _, err := io.ReadFull(r.Body, head); err != nil {
						return pushResult{}, err
					}
					logfFrom(ctx, nil)("importing")
					client.awaitLine(t)
					n, err := io.Copy(io.Discard, r.Body)
					if err != nil {
						return pushResult{}, err
					}
					return pushResult{Size: int64(len(head)) + n}, nil
				})
			}))
			defer srv.Close()
			var got pushResult
			err := clientFor(srv, client.logf).call(t.Context(), http.MethodPost, "/push", bytes.NewReader(body), nil, &got)
			if err != nil || got.Size != int64(size) || client.text() != "importing" {
				t.Errorf("got %+v, %v, lines %q; want all %d bytes read and the line printed", got, err, client.text(), size)
			}
		})
	}
}
