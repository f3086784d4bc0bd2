package node

import (
	"fmt"

	ma "github.com/multiformats/go-multiaddr"
)

// tcpOnly maps listen addresses to TCP, the one transport of a private
// network. A TCP address stays (without a WebSocket or TLS suffix); any
// other on an IP (QUIC, WebTransport, WebRTC) becomes TCP on the same IP
// and port, so the node still listens only where it was told and on the
// port peers were given. Dropping them instead, and falling back to a
// random port on every interface when no TCP address was left, exposed a
// node told to stay on 127.0.0.1 to every network it was on. Duplicates
// go; an address of another kind is left for listening to report. moved
// says, for each address that had to change, what it became.
func tcpOnly(addrs []ma.Multiaddr) (out []ma.Multiaddr, moved []string) {
	seen := map[string]bool{}
	// The TCP addresses first, so that a QUIC address on the same IP and
	// port, as in the default config, folds into its TCP twin silently.
	for _, a := range addrs {
		if t, ok := asTCP(a); ok && t.Equal(a) && !seen[t.String()] {
			seen[t.String()] = true
			out = append(out, t)
		}
	}
	for _, a := range addrs {
		t, ok := asTCP(a)
		if !ok {
			out = append(out, a)
			continue
		}
		if seen[t.String()] {
			continue
		}
		seen[t.String()] = true
		out = append(out, t)
		moved = append(moved, fmt.Sprintf("%s instead of %s", t, a))
	}
	return out, moved
}

// asTCP is /ipX/IP/tcp/PORT for an address /ipX/IP/(tcp|udp)/PORT/…, and
// false for anything else.
func asTCP(a ma.Multiaddr) (ma.Multiaddr, bool) {
	if len(a) < 2 {
		return nil, false
	}
	ip, port := a[0], a[1]
	switch ip.Protocol().Code {
	case ma.P_IP4, ma.P_IP6:
	default:
		return nil, false
	}
	switch port.Protocol().Code {
	case ma.P_TCP, ma.P_UDP:
	default:
		return nil, false
	}
	t, err := ma.NewMultiaddr(fmt.Sprintf("/%s/%s/tcp/%s", ip.Protocol().Name, ip.Value(), port.Value()))
	if err != nil {
		return nil, false
	}
	return t, true
}
