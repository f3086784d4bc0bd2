package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"
)

// connectionLost says what a request's connection ending early means: a
// bare "EOF" left a user whose daemon was killed or crashed mid-pull (the
// OOM killer, a reboot of the unit) guessing. If the socket still answers,
// the daemon lives on and ended this request itself; if not, it is gone.
// Any other error, nil included, is returned as it is.
func (c *remoteBackend) connectionLost(err error) error {
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
		!errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if conn, derr := dialSocket(ctx, c.socket); derr == nil {
		conn.Close()
		return fmt.Errorf("%w: the daemon closed the connection without a result; its log says why", err)
	}
	return fmt.Errorf("%w: the daemon stopped during the request (killed, or it crashed: its log says why); run the command again, with the daemon back or without it: what it stored is kept", err)
}
