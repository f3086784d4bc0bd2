package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// A pull through the daemon hands the daemon a file descriptor over the
// API socket (SCM_RIGHTS), and the daemon writes the tar into it itself:
// the output file or pipe when it is one; else a pipe whose other end the
// client copies into its writer (progress bars, a directory to unpack).
// Streaming the tar back as an HTTP body cost a copy of the whole image
// through the socket: 0.37 s of the daemon's CPU and 0.67 s of the
// client's per GiB, on a machine whose cores the pull already keeps busy.
// And once the connection is upgraded it is free to carry the pull's
// lines for the user (api_log.go) ahead of its outcome, before the first
// byte or mid-stream, where an HTTP body has no room for them.
//
// The exchange is an HTTP upgrade, so a daemon that predates it answers
// 404 and the client streams as before:
//
//	client: POST /pull-to-fd (the pull request), Upgrade: imgp2p-fd,
//	        Imgp2p-Log: 1 (asking for the lines)
//	daemon: 101 Switching Protocols, Imgp2p-Log: 1 when it sends them
//	        (or an error response)
//	client: one byte carrying the descriptor
//	daemon: writes the tar, with {"Log": …} messages as they come (only
//	        if asked), then one JSON pullOutcome, and closes
//
// The client closing the connection cancels the pull. A write the daemon
// has in flight finishes first, so a pipe whose reader has stopped reading
// (but not gone) holds that pull until the reader reads or goes.
const fdUpgrade = "imgp2p-fd"

// pullOutcome is a message on the upgraded connection: a line for the
// user (Log), or the end (Summary or Error).
type pullOutcome struct {
	Log     string       `json:",omitempty"`
	Summary *pullSummary `json:",omitempty"`
	Error   string       `json:",omitempty"`
}

// outputFile is a sink that is a plain file or pipe the daemon can write.
type outputFile interface {
	file() *os.File
}

var errNoFdPull = errors.New("the daemon cannot write to a descriptor")

// pullToFd asks the daemon to write the pull into w (see fdUpgrade),
// printing the lines it sends about the pull as they come.
func (c *remoteBackend) pullToFd(ctx context.Context, req pullRequest, w io.Writer) (pullSummary, error) {
	conn, err := dialSocket(ctx, c.socket)
	if err != nil {
		return pullSummary{}, fmt.Errorf("daemon API: %w", err)
	}
	uc := conn.(*net.UnixConn)
	defer uc.Close()
	stop := context.AfterFunc(ctx, func() { uc.Close() })
	defer stop()

	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://imgp2p/pull-to-fd", jsonBody(req))
	if err != nil {
		return pullSummary{}, err
	}
	hreq.Header.Set("Connection", "Upgrade")
	hreq.Header.Set("Upgrade", fdUpgrade)
	hreq.Header.Set(headerLog, logProtocol)
	if err := hreq.Write(uc); err != nil {
		return pullSummary{}, c.fdErr(ctx, err)
	}
	br := bufio.NewReader(uc)
	resp, err := http.ReadResponse(br, hreq)
	if err != nil {
		return pullSummary{}, c.fdErr(ctx, err)
	}
	switch resp.StatusCode {
	case http.StatusSwitchingProtocols:
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return pullSummary{}, errNoFdPull
	default:
		return pullSummary{}, responseError(resp)
	}
	out, err := newPullOutput(w)
	if err != nil {
		return pullSummary{}, err
	}
	_, _, err = uc.WriteMsgUnix([]byte{0}, unix.UnixRights(int(out.f.Fd())), nil)
	out.sent()
	if err != nil {
		out.wait(ctx)
		return pullSummary{}, c.fdErr(ctx, err)
	}
	sum, err := c.readOutcome(ctx, br)
	if werr := out.wait(ctx); werr != nil {
		// The output refusing what the daemon wrote is why the pull failed.
		return pullSummary{}, werr
	}
	return sum, err
}

// readOutcome prints the lines the daemon sends until its pullOutcome. A
// daemon that sends none (it predates them) is read just the same.
func (c *remoteBackend) readOutcome(ctx context.Context, r io.Reader) (pullSummary, error) {
	dec := json.NewDecoder(r)
	logf := logfFrom(ctx, c.logf)
	for {
		var out pullOutcome
		if err := dec.Decode(&out); err != nil {
			return pullSummary{}, c.fdErr(ctx, fmt.Errorf("pull ended without a result: %w", err))
		}
		switch {
		case out.Log != "":
			logf("%s", out.Log)
		case out.Error != "":
			return pullSummary{}, errors.New(out.Error)
		case out.Summary == nil:
			return pullSummary{}, fmt.Errorf("daemon API: pull ended without a result")
		default:
			return *out.Summary, nil
		}
	}
}

// pullOutput is the descriptor a daemon writes a pull into: the output's
// own file, or the write end of a pipe that this process copies into the
// output.
type pullOutput struct {
	f      *os.File
	pr     *os.File // the pipe's read end; nil when f is the output's own
	copied chan error
}

func newPullOutput(w io.Writer) (*pullOutput, error) {
	if o, ok := w.(outputFile); ok && o.file() != nil {
		return &pullOutput{f: o.file()}, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	o := &pullOutput{f: pw, pr: pr, copied: make(chan error, 1)}
	go func() {
		_, err := io.Copy(w, pr)
		// Closed at once, so that once w refuses more, the daemon's
		// writes fail (EPIPE) rather than fill the pipe and wait.
		pr.Close()
		o.copied <- err
	}()
	return o, nil
}

// sent closes this process's copy of the pipe's write end once the daemon
// has its own: the copy then ends when the daemon closes it.
func (o *pullOutput) sent() {
	if o.pr != nil {
		o.f.Close()
	}
}

// wait returns once all the daemon wrote is in the output, with the error
// the output gave, if any.
func (o *pullOutput) wait(ctx context.Context) error {
	if o.pr == nil {
		return nil
	}
	select {
	case err := <-o.copied:
		return err
	case <-ctx.Done():
		// A daemon that hangs must not hold this process: the pipe's
		// other end is the daemon's to close.
		o.pr.Close()
		<-o.copied
		return context.Cause(ctx)
	}
}

// fdErr prefers the reason the pull was cancelled to the broken
// connection it leaves.
func (c *remoteBackend) fdErr(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return c.connectionLost(fmt.Errorf("daemon API: %w", err))
}

// pullToFd is the daemon's half: see fdUpgrade.
func (s *apiServer) pullToFd(w http.ResponseWriter, r *http.Request) {
	var req pullRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, nil, fmt.Errorf("bad pull request: %w", err))
		return
	}
	if r.Header.Get("Upgrade") != fdUpgrade {
		writeJSON(w, nil, fmt.Errorf("pull-to-fd needs Upgrade: %s", fdUpgrade))
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		writeJSON(w, nil, err)
		return
	}
	defer conn.Close()
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return
	}
	// The server's header deadline may still be set; this exchange runs
	// as long as the pull.
	uc.SetDeadline(time.Time{})
	logs := r.Header.Get(headerLog) == logProtocol
	brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + fdUpgrade + "\r\n")
	if logs {
		brw.WriteString(headerLog + ": " + logProtocol + "\r\n")
	}
	brw.WriteString("\r\n")
	if brw.Flush() != nil {
		return
	}
	out, err := receiveFile(uc)
	if err != nil {
		s.b.logf("pull-to-fd: %v", err)
		return
	}
	defer out.Close()

	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		// The client sends nothing more: a read returns when it hangs up.
		var b [1]byte
		uc.Read(b[:])
		cancel()
	}()
	lines := &lineSender{enc: json.NewEncoder(uc)}
	if logs {
		ctx = withLogf(ctx, lines.logf)
	}
	var res pullOutcome
	sum, err := s.b.Pull(ctx, req, out)
	if err != nil {
		res.Error = err.Error()
	} else {
		res.Summary = &sum
	}
	lines.stop()
	json.NewEncoder(uc).Encode(res)
}

// receiveFile reads the one byte carrying the client's descriptor.
func receiveFile(uc *net.UnixConn) (*os.File, error) {
	var b [1]byte
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := uc.ReadMsgUnix(b[:], oob)
	if err != nil {
		return nil, fmt.Errorf("receive the output descriptor: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("receive the output descriptor: no descriptor sent (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("receive the output descriptor: want one, got %d (%v)", len(fds), err)
	}
	return os.NewFile(uintptr(fds[0]), "pull output"), nil
}
