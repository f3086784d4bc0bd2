package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"time"
)

// connectionLost says what a request's connection ending early means: a
// bare "EOF" left a user whose daemon was killed or crashed mid-pull (the
// OOM killer, a reboot of the unit) guessing. If the daemon still answers,
// it lives on and ended this request itself; if not, it is gone.
// Any other error, nil included, is returned as it is.
func (c *remoteBackend) connectionLost(err error) error {
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
		!errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		return err
	}
	if c.daemonAnswers() {
		return fmt.Errorf("%w: the daemon closed the connection without a result; its log says why", err)
	}
	return fmt.Errorf("%w: the daemon stopped during the request (killed, or it crashed: its log says why); run the command again, with the daemon back or without it: what it stored is kept", err)
}

// daemonAnswers asks the daemon who it is. A connect alone proves
// nothing: a killed daemon's connections close before its listening
// socket does, so a client quick to ask again was let into the backlog of
// a process already dying, and told the daemon was alive (1 CI run in
// about 20 of TestDaemonKilledMidPull).
func (c *remoteBackend) daemonAnswers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://imgp2p/id", nil)
	if err != nil {
		return false
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return err == nil && resp.StatusCode == http.StatusOK
}
