package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
)

// remoteBackend runs operations in the daemon that owns the repo.
type remoteBackend struct {
	http   *http.Client
	socket string
	// logf prints the lines the daemon sends about this process's
	// requests, as a local backend prints its own.
	logf func(string, ...any)
}

// dialDaemon connects to the daemon's socket in repo, if one answers.
func dialDaemon(ctx context.Context, repo string) (*remoteBackend, bool) {
	path := filepath.Join(repo, apiSocket)
	conn, err := dialSocket(ctx, path)
	if err != nil {
		return nil, false
	}
	conn.Close()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialSocket(ctx, path)
		},
	}
	return &remoteBackend{http: &http.Client{Transport: tr}, socket: path}, true
}

// dialSocket connects to the unix socket at path, however long path is.
func dialSocket(ctx context.Context, path string) (net.Conn, error) {
	var conn net.Conn
	err := viaShortPath(path, func(p string) error {
		var d net.Dialer
		var err error
		conn, err = d.DialContext(ctx, "unix", p)
		return err
	})
	return conn, err
}

func (c *remoteBackend) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// call sends a request and decodes a JSON result or the daemon's error,
// printing the lines a daemon sends ahead of them (api_log.go).
func (c *remoteBackend) call(ctx context.Context, method, path string, body io.Reader, header http.Header, out any) error {
	header = header.Clone()
	if header == nil {
		header = http.Header{}
	}
	header.Set(headerLog, logProtocol)
	resp, err := c.do(ctx, method, path, body, header)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Header.Get(headerLog) == logProtocol {
		return c.connectionLost(readLogged(resp.Body, logfFrom(ctx, c.logf), out))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *remoteBackend) do(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://imgp2p"+path, body)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.connectionLost(fmt.Errorf("daemon API: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, responseError(resp)
	}
	return resp, nil
}

// responseError is the daemon's error response as an error.
func responseError(resp *http.Response) error {
	defer resp.Body.Close()
	var e struct{ Error string }
	if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Error != "" {
		return errors.New(e.Error)
	}
	return fmt.Errorf("daemon API: %s", resp.Status)
}

func jsonBody(v any) io.Reader {
	raw, _ := json.Marshal(v)
	return bytes.NewReader(raw)
}

func (c *remoteBackend) Push(ctx context.Context, req pushRequest, body io.Reader) (pushResult, error) {
	raw, _ := json.Marshal(req)
	if req.Path != "" || req.Remote != "" {
		body = http.NoBody
	}
	var res pushResult
	err := c.call(ctx, http.MethodPost, "/push", body, http.Header{headerRequest: {string(raw)}}, &res)
	return res, err
}

func (c *remoteBackend) Pull(ctx context.Context, req pullRequest, w io.Writer) (pullSummary, error) {
	if sum, err := c.pullToFd(ctx, req, w); !errors.Is(err, errNoFdPull) {
		return sum, err
	}
	// A daemon from before pull-to-fd streams the tar as the body, and
	// keeps the pull's lines on its own stderr.
	resp, err := c.do(ctx, http.MethodPost, "/pull", jsonBody(req), nil)
	if err != nil {
		return pullSummary{}, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return pullSummary{}, err
	}
	// Trailers are only readable once the body is consumed.
	if msg := resp.Trailer.Get(trailerError); msg != "" {
		return pullSummary{}, errors.New(msg)
	}
	var sum pullSummary
	if err := json.Unmarshal([]byte(resp.Trailer.Get(trailerResult)), &sum); err != nil {
		return pullSummary{}, fmt.Errorf("daemon API: pull ended without a result")
	}
	return sum, nil
}

func (c *remoteBackend) Copy(ctx context.Context, req copyRequest) (copyResult, error) {
	var res copyResult
	err := c.call(ctx, http.MethodPost, "/copy", jsonBody(req), nil, &res)
	return res, err
}

func (c *remoteBackend) List(ctx context.Context) ([]imageInfo, error) {
	var res []imageInfo
	err := c.call(ctx, http.MethodGet, "/ls", nil, nil, &res)
	return res, err
}

func (c *remoteBackend) ID(ctx context.Context) (idInfo, error) {
	var res idInfo
	err := c.call(ctx, http.MethodGet, "/id", nil, nil, &res)
	return res, err
}

func (c *remoteBackend) GC(ctx context.Context) (gcResult, error) {
	var res gcResult
	err := c.call(ctx, http.MethodPost, "/gc", http.NoBody, nil, &res)
	return res, err
}

func (c *remoteBackend) Verify(ctx context.Context, req verifyRequest) (verifyResult, error) {
	var res verifyResult
	err := c.call(ctx, http.MethodPost, "/verify", jsonBody(req), nil, &res)
	return res, err
}

func (c *remoteBackend) Peers(ctx context.Context) ([]peerInfo, error) {
	var res []peerInfo
	err := c.call(ctx, http.MethodGet, "/peers", nil, nil, &res)
	return res, err
}

func (c *remoteBackend) Providers(ctx context.Context, req providersRequest) ([]peerInfo, error) {
	var res []peerInfo
	err := c.call(ctx, http.MethodPost, "/providers", jsonBody(req), nil, &res)
	return res, err
}

func (c *remoteBackend) Pin(ctx context.Context, req pinRequest) ([]pinInfo, error) {
	var res []pinInfo
	err := c.call(ctx, http.MethodPost, "/pin", jsonBody(req), nil, &res)
	return res, err
}
