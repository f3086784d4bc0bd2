package node

import (
	"slices"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestTCPOnlyKeepsWhereItListens(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in, want  []string
		wantMoved int
	}{
		{"default config", []string{"/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1", "/ip6/::/tcp/4001", "/ip6/::/udp/4001/quic-v1"},
			[]string{"/ip4/0.0.0.0/tcp/4001", "/ip6/::/tcp/4001"}, 0},
		{"quic first", []string{"/ip4/0.0.0.0/udp/4001/quic-v1", "/ip4/0.0.0.0/tcp/4001"},
			[]string{"/ip4/0.0.0.0/tcp/4001"}, 0},
		// The case that listened on every interface: a loopback-only QUIC
		// address must stay on loopback.
		{"quic only, loopback", []string{"/ip4/127.0.0.1/udp/4401/quic-v1"},
			[]string{"/ip4/127.0.0.1/tcp/4401"}, 1},
		{"webtransport and websocket", []string{"/ip4/10.0.0.2/udp/4001/quic-v1/webtransport", "/ip6/::1/tcp/4002/ws"},
			[]string{"/ip4/10.0.0.2/tcp/4001", "/ip6/::1/tcp/4002"}, 2},
		{"a name is left to fail", []string{"/dns4/example.com/tcp/4001"},
			[]string{"/dns4/example.com/tcp/4001"}, 0},
	} {
		var in []ma.Multiaddr
		for _, s := range tc.in {
			in = append(in, ma.StringCast(s))
		}
		out, moved := tcpOnly(in)
		var got []string
		for _, a := range out {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tc.want) || len(moved) != tc.wantMoved {
			t.Errorf("%s: tcpOnly(%v) = %v, moved %q; want %v, %d moved", tc.name, tc.in, got, moved, tc.want, tc.wantMoved)
		}
	}
}
