package commands

import (
	"fmt"
	"net"
	"strings"
)

// httpAddr checks the HOST:PORT given to flag (the gateway's or the
// metrics endpoint's) before anything starts. A bare :PORT means loopback
// for both: Go would read it as every interface, and the gateway is to be
// reachable from other hosts only when an address says so (0.0.0.0:5050).
// swarmFlag is the command's flag for libp2p multiaddrs, named when one is
// given here instead: daemon's --listen takes those, serve's does not.
func httpAddr(flag, swarmFlag, addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		hint := ""
		if strings.HasPrefix(addr, "/") {
			hint = fmt.Sprintf("; a libp2p multiaddr goes to %s", swarmFlag)
		}
		return "", fmt.Errorf("--%s %q: want HOST:PORT, such as 127.0.0.1:5050%s", flag, addr, hint)
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	return addr, nil
}
