package node

import (
	"context"
	"fmt"

	"github.com/ipfs/go-cid"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"

	"github.com/imgp2p/imgp2p/store"
)

// contentRouter is the DHT side a node uses: provide, find providers, and
// a routing table to say who was found through it.
type contentRouter interface {
	routing.ContentRouting
	Close() error
	knows(peer.ID) bool
	// announcers are the DHTs a node announces to, each on its own: one
	// that cannot announce yet (no peers) must not stop the others.
	announcers() []announcer
}

// announcer is one DHT's provide.
type announcer interface {
	Provide(ctx context.Context, c cid.Cid, announce bool) error
}

// newRouter starts the DHT for the mode. LAN mode runs only the LAN DHT
// (Kubo's /ipfs/lan/kad/1.0.0), with no bootstrap peers: it learns peers
// from mDNS and from connections. Public mode runs the dual DHT and joins
// the Amino DHT through the bootstrap peers.
func newRouter(h host.Host, repo *store.Repo, opts Options) (contentRouter, error) {
	records := dht.Datastore(namespace.Wrap(repo.Datastore, ds.NewKey("/imgp2p/dht")))
	if opts.Mode == ModePublic {
		bootstrap, err := parsePeers(opts.Bootstrap)
		if err != nil {
			return nil, fmt.Errorf("bootstrap peers: %w", err)
		}
		// Each DHT keeps its own records. Sharing one datastore, as
		// Kubo does, the Amino DHT answered the Internet with the
		// provider records of the LAN's machines (which image each
		// holds), and the LAN with records from anywhere, once kad-dht
		// had written them (256 at a time, and at every close).
		aminoRecords := dht.Datastore(namespace.Wrap(repo.Datastore, ds.NewKey("/imgp2p/amino")))
		d, err := dual.New(h,
			dual.WanDHTOption(aminoRecords, dht.BootstrapPeers(bootstrap...)),
			dual.LanDHTOption(records, dht.Mode(dht.ModeServer)),
		)
		if err != nil {
			return nil, fmt.Errorf("start DHT: %w", err)
		}
		return dualRouter{d}, nil
	}
	d, err := dht.New(h,
		records,
		dht.ProtocolExtension(dual.LanExtension),
		dht.QueryFilter(dht.PrivateQueryFilter),
		dht.RoutingTableFilter(dht.PrivateRoutingTableFilter),
		dht.Mode(dht.ModeServer),
	)
	if err != nil {
		return nil, fmt.Errorf("start LAN DHT: %w", err)
	}
	return lanRouter{d}, nil
}

type dualRouter struct{ *dual.DHT }

// announcers are both DHTs, not the dual DHT's Provide: that announces on
// the Amino DHT alone once it has a peer, and on the LAN DHT alone until
// then, so a public node would never announce to its LAN, or, if it had
// LAN peers before Amino ones, to the Amino DHT.
func (r dualRouter) announcers() []announcer { return []announcer{r.WAN, r.LAN} }

func (r dualRouter) knows(p peer.ID) bool {
	return r.WAN.RoutingTable().Find(p) != "" || r.LAN.RoutingTable().Find(p) != ""
}

type lanRouter struct{ *dht.IpfsDHT }

func (r lanRouter) knows(p peer.ID) bool { return r.RoutingTable().Find(p) != "" }

func (r lanRouter) announcers() []announcer { return []announcer{r.IpfsDHT} }
