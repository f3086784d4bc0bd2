package node

import (
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"

	"github.com/imgp2p/imgp2p/store"
)

func newHost(repo *store.Repo, opts Options, banned *banList) (host.Host, error) {
	if opts.SwarmKey == nil && pnet.ForcePrivateNetwork {
		return nil, fmt.Errorf("%s=1 requires a private network, but there is no swarm key (put one at %s/%s or pass --swarm-key)", pnet.EnvKey, repo.Path, SwarmKeyFile)
	}
	cm, err := connmgr.NewConnManager(64, 256)
	if err != nil {
		return nil, err
	}
	listen := opts.Listen
	hostOpts := []libp2p.Option{
		libp2p.Identity(repo.Identity),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent(opts.UserAgent),
		libp2p.ConnectionGater(gater{lanOnly: opts.Mode == ModeLAN, banned: banned}),
		libp2p.SwarmOpts(swarm.WithDialRanker(preferTCP)),
	}
	if opts.SwarmKey != nil {
		// QUIC, WebTransport and WebRTC cannot run over a pre-shared key:
		// a private network is TCP only.
		listen = tcpOnly(listen)
		hostOpts = append(hostOpts, libp2p.PrivateNetwork(opts.SwarmKey.PSK), libp2p.Transport(tcp.NewTCPTransport))
	}
	hostOpts = append(hostOpts, libp2p.ListenAddrStrings(listen...))
	h, err := libp2p.New(hostOpts...)
	if err != nil {
		return nil, fmt.Errorf("start libp2p host (listen %v): %w", listen, err)
	}
	return h, nil
}

// tcpOnly keeps the TCP listen addresses; with none left it listens on a
// random TCP port on all interfaces.
func tcpOnly(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		if strings.Contains(a, "/tcp/") && !strings.Contains(a, "/ws") {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = []string{"/ip4/0.0.0.0/tcp/0"}
	}
	return out
}
