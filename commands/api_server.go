package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The daemon's API: HTTP over a unix socket in the repo, mode 0600, so only
// the repo's owner can reach it. Requests and results are the backend's own
// types as JSON. A pull writes its tar into a descriptor the client hands
// over (api_fd.go); for clients from before that, /pull streams it as the
// body and reports its outcome in trailers, since an error can come after
// the first byte. A request's lines for the user go back to the client
// that asked for them (api_log.go).
const (
	headerRequest = "Imgp2p-Request"
	trailerError  = "Imgp2p-Error"
	trailerResult = "Imgp2p-Summary"
)

type apiServer struct {
	b   *localBackend
	srv *http.Server
	ln  net.Listener
}

func listenAPI(b *localBackend) (*apiServer, error) {
	path := filepath.Join(b.repo.Path, apiSocket)
	// Only a process holding the repo lock gets here, so any socket left
	// is from a daemon that died.
	_ = os.Remove(path)
	var ln net.Listener
	err := viaShortPath(path, func(p string) (err error) {
		ln, err = net.Listen("unix", p)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("API socket %s: %w", path, err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		// The path it was bound by may be a /proc/self/fd one that names
		// something else by then; shutdown removes the socket itself.
		ul.SetUnlinkOnClose(false)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, err
	}
	s := &apiServer{b: b, ln: ownerOnly{Listener: ln, logf: b.logf}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /push", s.push)
	mux.HandleFunc("POST /pull", s.pull)
	mux.HandleFunc("POST /pull-to-fd", s.pullToFd)
	mux.HandleFunc("POST /copy", s.copy)
	mux.HandleFunc("GET /ls", s.list)
	mux.HandleFunc("GET /id", s.id)
	mux.HandleFunc("POST /pin", s.pin)
	mux.HandleFunc("GET /peers", s.peers)
	mux.HandleFunc("POST /providers", s.providers)
	mux.HandleFunc("POST /gc", s.gc)
	mux.HandleFunc("POST /verify", s.verify)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return s, nil
}

func (s *apiServer) serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *apiServer) shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	os.Remove(filepath.Join(s.b.repo.Path, apiSocket))
	return err
}

func writeJSON(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

func (s *apiServer) push(w http.ResponseWriter, r *http.Request) {
	var req pushRequest
	if err := json.Unmarshal([]byte(r.Header.Get(headerRequest)), &req); err != nil {
		writeJSON(w, nil, fmt.Errorf("bad push request: %w", err))
		return
	}
	serveLogged(w, r, func(ctx context.Context) (pushResult, error) {
		return s.b.Push(ctx, req, r.Body)
	})
}

func (s *apiServer) pull(w http.ResponseWriter, r *http.Request) {
	var req pullRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, nil, fmt.Errorf("bad pull request: %w", err))
		return
	}
	w.Header().Set("Trailer", trailerError+", "+trailerResult)
	lw := &lazyWriter{w: w}
	sum, err := s.b.Pull(r.Context(), req, lw)
	if err != nil && !lw.started {
		// Nothing streamed yet: a plain error response.
		w.Header().Del("Trailer")
		writeJSON(w, nil, err)
		return
	}
	if err != nil {
		w.Header().Set(trailerError, err.Error())
		return
	}
	lw.start()
	raw, _ := json.Marshal(sum)
	w.Header().Set(trailerResult, string(raw))
}

// lazyWriter sends the 200 status only with the first byte of data, so an
// error found before then can still get an error status.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyWriter) start() {
	if !l.started {
		l.started = true
		l.w.Header().Set("Content-Type", "application/x-tar")
		l.w.WriteHeader(http.StatusOK)
	}
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.start()
	return l.w.Write(p)
}

func (s *apiServer) copy(w http.ResponseWriter, r *http.Request) {
	var req copyRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, nil, fmt.Errorf("bad copy request: %w", err))
		return
	}
	serveLogged(w, r, func(ctx context.Context) (copyResult, error) {
		return s.b.Copy(ctx, req)
	})
}

func (s *apiServer) list(w http.ResponseWriter, r *http.Request) {
	res, err := s.b.List(r.Context())
	writeJSON(w, res, err)
}

func (s *apiServer) id(w http.ResponseWriter, r *http.Request) {
	res, err := s.b.ID(r.Context())
	writeJSON(w, res, err)
}

func (s *apiServer) gc(w http.ResponseWriter, r *http.Request) {
	res, err := s.b.GC(r.Context())
	writeJSON(w, res, err)
}

func (s *apiServer) verify(w http.ResponseWriter, r *http.Request) {
	var req verifyRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, nil, fmt.Errorf("bad verify request: %w", err))
		return
	}
	res, err := s.b.Verify(r.Context(), req)
	writeJSON(w, res, err)
}

func (s *apiServer) peers(w http.ResponseWriter, r *http.Request) {
	res, err := s.b.Peers(r.Context())
	writeJSON(w, res, err)
}

func (s *apiServer) providers(w http.ResponseWriter, r *http.Request) {
	var req providersRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, nil, fmt.Errorf("bad providers request: %w", err))
		return
	}
	res, err := s.b.Providers(r.Context(), req)
	writeJSON(w, res, err)
}

func (s *apiServer) pin(w http.ResponseWriter, r *http.Request) {
	var req pinRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, nil, fmt.Errorf("bad pin request: %w", err))
		return
	}
	res, err := s.b.Pin(r.Context(), req)
	writeJSON(w, res, err)
}
