package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// A request's lines for the user (reqlog.go) travel from the daemon to
// the client as JSON messages {"Log": "line"}, sent as they happen,
// before the result. Both sides must agree, so that a client and a daemon
// of different builds still work together:
//
//   - the client asks with the request header Imgp2p-Log: 1;
//   - /copy and /push (through serveLogged): once a line is sent, the
//     response carries Imgp2p-Log: 1 and its body is newline-delimited
//     messages ending with {"Result": …} or {"Error": …}. With no line
//     sent, or asked by a client that did not ask, the response is the
//     plain JSON it always was (an error keeps its status);
//   - /pull-to-fd: the lines go on the upgraded connection ahead of the
//     pullOutcome (api_fd.go), only for a client that asked; the 101
//     response says Imgp2p-Log: 1.
//
// A daemon that does not know the header leaves the lines on its own
// stderr, as before.
const (
	headerLog   = "Imgp2p-Log"
	logProtocol = "1"
)

// apiMessage is one message of a logged response: a line, or the end.
type apiMessage struct {
	Log    string          `json:",omitempty"`
	Error  string          `json:",omitempty"`
	Result json.RawMessage `json:",omitempty"`
}

// lineSender sends a request's lines to its client until stopped.
type lineSender struct {
	mu    sync.Mutex
	enc   *json.Encoder
	begin func() // before the first line; may be nil
	flush func() // after each line, so it arrives while it is true; may be nil
	sent  bool
	ended bool
}

func (s *lineSender) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	// An empty Log would read as the end of the response.
	if s.ended || line == "" {
		return
	}
	if !s.sent && s.begin != nil {
		s.begin()
	}
	s.sent = true
	s.enc.Encode(apiMessage{Log: line})
	if s.flush != nil {
		s.flush()
	}
}

// stop drops every later line (a watcher winding down may still log once
// the request is over) and reports whether any line was sent.
func (s *lineSender) stop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ended = true
	return s.sent
}

// serveLogged answers with op's result, sending op's lines to a client
// that asked for them.
func serveLogged[T any](w http.ResponseWriter, r *http.Request, op func(context.Context) (T, error)) {
	if r.Header.Get(headerLog) != logProtocol {
		res, err := op(r.Context())
		writeJSON(w, res, err)
		return
	}
	rc := http.NewResponseController(w)
	// A push's archive is the request body: without this, the first line
	// would make net/http discard what is left of it, or close it.
	rc.EnableFullDuplex()
	s := &lineSender{
		enc: json.NewEncoder(w),
		begin: func() {
			w.Header().Set(headerLog, logProtocol)
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
		},
		flush: func() { rc.Flush() },
	}
	res, err := op(withLogf(r.Context(), s.logf))
	if !s.stop() {
		writeJSON(w, res, err)
		return
	}
	end := apiMessage{}
	if err != nil {
		end.Error = err.Error()
	} else if end.Result, err = json.Marshal(res); err != nil {
		end.Error = err.Error()
	}
	json.NewEncoder(w).Encode(end)
}

// readLogged reads a logged response body: it prints the lines with logf
// and decodes the result into out (which may be nil).
func readLogged(body io.Reader, logf func(string, ...any), out any) error {
	dec := json.NewDecoder(body)
	for {
		var m apiMessage
		if err := dec.Decode(&m); err != nil {
			return fmt.Errorf("daemon API: the response ended without a result: %w", err)
		}
		switch {
		case m.Log != "":
			logf("%s", m.Log)
		case m.Error != "":
			return errors.New(m.Error)
		case out == nil:
			return nil
		default:
			return json.Unmarshal(m.Result, out)
		}
	}
}
