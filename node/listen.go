package node

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
)

// exclusiveTCP is libp2p's TCP transport without SO_REUSEPORT. With it,
// the kernel lets a second process bind a port already held by a node
// that also set it (Kubo does, and so did we): both "listen" on 4001 and
// the kernel splits incoming connections between them, so half the
// peers dialing us reach a node with another peer ID and fail. Without
// it, the second bind fails and says so. What reuseport buys (dialing
// from the listen port, for NAT hole punching) no mode of ours uses.
func exclusiveTCP() libp2p.Option {
	return libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport())
}

// parseListen checks every listen address before anything starts, so a
// typo is named as such rather than as a failure to start the host.
func parseListen(addrs []string) ([]ma.Multiaddr, error) {
	out := make([]ma.Multiaddr, 0, len(addrs))
	for _, a := range addrs {
		m, err := ma.NewMultiaddr(a)
		if err != nil {
			return nil, fmt.Errorf("invalid listen address %q: %v (want a multiaddr such as /ip4/0.0.0.0/tcp/4001 or /ip4/0.0.0.0/udp/4001/quic-v1)", a, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// listenEach opens each address on its own (the host was built listening on
// none), so that each failure is known: libp2p's own Listen succeeds if any
// one address does and only logs the rest. If all fail the node cannot be
// reached and that is an error; otherwise each that failed is warned
// about, except an unsupported address family: a host without IPv6 is
// normal.
func listenEach(h host.Host, addrs []ma.Multiaddr, logf func(string, ...any)) error {
	// The swarm's AddListenAddr keeps the transport's error intact
	// (Listen flattens it to text), so an address in use can be told apart.
	add := h.Network().Listen
	if s, ok := h.Network().(interface{ AddListenAddr(ma.Multiaddr) error }); ok {
		add = func(a ...ma.Multiaddr) error { return s.AddListenAddr(a[0]) }
	}
	var failed []string
	var warnings []string
	inUse := false
	for _, a := range addrs {
		err := add(a)
		if err == nil {
			continue
		}
		inUse = inUse || errors.Is(err, syscall.EADDRINUSE)
		failed = append(failed, fmt.Sprintf("%s: %v", a, err))
		if !errors.Is(err, syscall.EAFNOSUPPORT) {
			warnings = append(warnings, fmt.Sprintf("warning: not listening on %s: %v", a, err))
		}
	}
	if len(addrs) == 0 || len(failed) < len(addrs) {
		for _, w := range warnings {
			logf("%s", w)
		}
		return nil
	}
	hint := ""
	if inUse {
		hint = " (another process, such as a Kubo or imgp2p daemon, holds the port: stop it, or pick other ports with --listen or Listen in the repo's config.json)"
	}
	return fmt.Errorf("cannot listen on any address: %s%s", strings.Join(failed, "; "), hint)
}
