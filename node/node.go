// Package node composes the repo's blockstore with the network: a libp2p
// host, the dual Kademlia DHT and bitswap, or, offline, nothing at all.
// A Node is a DAG service; whether a missing block is fetched from peers
// or reported missing is the only difference between the modes.
package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/exchange/offline"
	"github.com/ipfs/boxo/ipld/merkledag"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p-kad-dht/dual"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/imgp2p/imgp2p/store"
)

// Options choose how a node joins the network.
type Options struct {
	// Offline builds no host: like `ipfs daemon --offline`, only what the
	// repo holds can be read.
	Offline bool
	// Listen are the multiaddrs the host listens on.
	Listen []string
	// Peers are multiaddrs (with /p2p/ID) dialed at start and kept connected.
	Peers []string
	// UserAgent is announced to peers through identify.
	UserAgent string
}

// Node is a repo joined to the network (or not, when offline).
type Node struct {
	ipld.DAGService

	Repo    *store.Repo
	Host    host.Host // nil offline
	DHT     *dual.DHT // nil offline
	Bitswap *bitswap.Bitswap

	exchange exchange.Interface
	tally    *tally
	keeper   *peerKeeper
	cancel   context.CancelFunc
}

// New joins repo to the network as opts say. Close releases the network
// side; the repo stays open and belongs to the caller.
func New(ctx context.Context, repo *store.Repo, opts Options) (*Node, error) {
	n := &Node{Repo: repo, tally: newTally()}
	ctx, n.cancel = context.WithCancel(ctx)
	if opts.Offline {
		n.exchange = offline.Exchange(repo.Blocks)
	} else if err := n.startNetwork(ctx, opts); err != nil {
		n.Close()
		return nil, err
	}
	n.DAGService = merkledag.NewDAGService(blockservice.New(repo.Blocks, n.exchange))
	return n, nil
}

func (n *Node) startNetwork(ctx context.Context, opts Options) error {
	peers, err := parsePeers(opts.Peers)
	if err != nil {
		return err
	}
	if n.Host, err = newHost(n.Repo, opts); err != nil {
		return err
	}
	if n.DHT, err = newDHT(ctx, n.Host, n.Repo); err != nil {
		return err
	}
	n.Bitswap = newBitswap(ctx, n.Host, n.DHT, n.Repo, n.tally)
	n.exchange = n.Bitswap
	n.keeper = keepConnected(ctx, n.Host, peers)
	return nil
}

// Online reports whether the node can fetch from peers.
func (n *Node) Online() bool { return n.Host != nil }

// Addrs are the node's listen addresses, each ending in /p2p/ID.
func (n *Node) Addrs() []ma.Multiaddr {
	if n.Host == nil {
		return nil
	}
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.Host.ID(), Addrs: n.Host.Addrs()})
	if err != nil {
		return nil
	}
	return addrs
}

// Close stops the network side. Safe on a partly built node.
func (n *Node) Close() error {
	n.cancel()
	var errs []error
	if n.keeper != nil {
		n.keeper.wait()
	}
	if n.Bitswap != nil {
		errs = append(errs, n.Bitswap.Close())
	}
	if n.DHT != nil {
		errs = append(errs, n.DHT.Close())
	}
	if n.Host != nil {
		errs = append(errs, n.Host.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close node: %w", err)
	}
	return nil
}
