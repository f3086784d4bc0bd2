package node

import (
	"context"
	"fmt"

	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"

	"github.com/imgp2p/imgp2p/store"
)

func newHost(repo *store.Repo, opts Options) (host.Host, error) {
	cm, err := connmgr.NewConnManager(64, 256)
	if err != nil {
		return nil, err
	}
	h, err := libp2p.New(
		libp2p.Identity(repo.Identity),
		libp2p.ListenAddrStrings(opts.Listen...),
		libp2p.ConnectionManager(cm),
		libp2p.UserAgent(opts.UserAgent),
	)
	if err != nil {
		return nil, fmt.Errorf("start libp2p host (listen %v): %w", opts.Listen, err)
	}
	return h, nil
}

// newDHT starts the dual DHT with no bootstrap peers: public networking is
// opt-in, so a node only learns of peers it is told about or meets. The LAN
// DHT serves queries; records persist in the repo.
func newDHT(ctx context.Context, h host.Host, repo *store.Repo) (*dual.DHT, error) {
	records := namespace.Wrap(repo.Datastore, ds.NewKey("/imgp2p/dht"))
	d, err := dual.New(h,
		dual.DHTOption(dht.Datastore(records)),
		dual.LanDHTOption(dht.Mode(dht.ModeServer)),
	)
	if err != nil {
		return nil, fmt.Errorf("start DHT: %w", err)
	}
	return d, nil
}
