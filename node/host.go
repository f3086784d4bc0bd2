package node

import (
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/pnet"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	webrtc "github.com/libp2p/go-libp2p/p2p/transport/webrtc"
	websocket "github.com/libp2p/go-libp2p/p2p/transport/websocket"
	webtransport "github.com/libp2p/go-libp2p/p2p/transport/webtransport"

	"github.com/imgp2p/imgp2p/store"
)

func newHost(repo *store.Repo, opts Options, banned *banList, reporter metrics.Reporter) (host.Host, error) {
	if opts.SwarmKey == nil && pnet.ForcePrivateNetwork {
		return nil, fmt.Errorf("%s=1 requires a private network, but there is no swarm key (put one at %s/%s or pass --swarm-key)", pnet.EnvKey, repo.Path, SwarmKeyFile)
	}
	cm, err := connmgr.NewConnManager(64, 256)
	if err != nil {
		return nil, err
	}
	listen := opts.Listen
	if len(listen) == 0 {
		// What libp2p listens on when given no addresses.
		listen = anyPort
	}
	addrs, err := parseListen(listen)
	if err != nil {
		return nil, err
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	hostOpts := []libp2p.Option{
		libp2p.Identity(repo.Identity),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent(opts.UserAgent),
		libp2p.ConnectionGater(gater{lanOnly: opts.Mode == ModeLAN, banned: banned}),
		libp2p.SwarmOpts(swarm.WithDialRanker(preferTCP)),
		// Not for statistics: liveness learns from it which peers went
		// silent.
		libp2p.BandwidthReporter(reporter),
		// listenEach opens the addresses one by one once the host is built.
		libp2p.NoListenAddrs,
	}
	if opts.SwarmKey != nil {
		// QUIC, WebTransport and WebRTC cannot run over a pre-shared key:
		// a private network is TCP only.
		var moved []string
		addrs, moved = tcpOnly(addrs)
		for _, m := range moved {
			logf("private network: listening on %s (QUIC, WebTransport and WebRTC cannot use a swarm key)", m)
		}
		hostOpts = append(hostOpts, libp2p.PrivateNetwork(opts.SwarmKey.PSK), exclusiveTCP())
	} else {
		// libp2p's default transports, with TCP's port ours alone.
		hostOpts = append(hostOpts, exclusiveTCP(),
			libp2p.Transport(quic.NewTransport),
			libp2p.Transport(websocket.New),
			libp2p.Transport(webtransport.New),
			libp2p.Transport(webrtc.New),
		)
	}
	h, err := libp2p.New(hostOpts...)
	if err != nil {
		return nil, fmt.Errorf("start libp2p host: %w", err)
	}
	if err := listenEach(h, addrs, logf); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// anyPort is a random port on every interface, TCP and QUIC.
var anyPort = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1", "/ip6/::/tcp/0", "/ip6/::/udp/0/quic-v1"}
