//go:build !linux

package commands

import "net"

// ownerOnly relies on the socket's 0600 mode alone where peer credentials
// are not read.
type ownerOnly struct {
	net.Listener
	logf func(string, ...any)
}
