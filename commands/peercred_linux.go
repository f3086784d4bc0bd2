package commands

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// ownerOnly accepts connections on the API socket only from our own user
// (or root). The socket's 0600 mode already keeps others out; this holds
// even if the mode was loosened or the socket handed around.
type ownerOnly struct {
	net.Listener
	logf func(string, ...any)
}

func (l ownerOnly) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, err := peerUID(conn)
		if err == nil && (uid == uint32(os.Getuid()) || uid == 0) {
			return conn, nil
		}
		l.logf("refused an API connection from uid %d (%v)", uid, err)
		conn.Close()
	}
}

func peerUID(conn net.Conn) (uint32, error) {
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return 0, fmt.Errorf("not a unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var cred *unix.Ucred
	var credErr error
	if err := raw.Control(func(fd uintptr) {
		cred, credErr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if credErr != nil {
		return 0, credErr
	}
	return cred.Uid, nil
}
