// Package node composes the repo's blockstore with the network: a libp2p
// host, the Kademlia DHT, bitswap and mDNS, or, offline, nothing at all.
// A Node is a DAG service; whether a missing block is fetched from peers
// or reported missing is the only difference between the modes.
package node

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ipfs/boxo/bitswap"
	"github.com/ipfs/boxo/blockservice"
	"github.com/ipfs/boxo/exchange"
	"github.com/ipfs/boxo/exchange/offline"
	"github.com/ipfs/boxo/ipld/merkledag"
	ipld "github.com/ipfs/go-ipld-format"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/imgp2p/imgp2p/store"
)

// Options choose how a node joins the network.
type Options struct {
	Mode Mode
	// MDNS turns LAN discovery on (lan and public modes).
	MDNS bool
	// Listen are the multiaddrs the host listens on.
	Listen []string
	// Peers are multiaddrs (with /p2p/ID) dialed at start and kept connected.
	Peers []string
	// Bootstrap are the public DHT's entry points; public mode only.
	// Empty means Kubo's default bootstrap peers.
	Bootstrap []string
	// SwarmKey, when set, confines the node to that private network.
	SwarmKey *SwarmKey
	// UserAgent is announced to peers through identify.
	UserAgent string
	// Logf reports what a user should know (warnings, discovery); nil is
	// silent.
	Logf func(format string, args ...any)
}

// DefaultBootstrap lists Kubo's default bootstrap peers.
func DefaultBootstrap() []string {
	var out []string
	for _, a := range dht.DefaultBootstrapPeers {
		out = append(out, a.String())
	}
	return out
}

// Node is a repo joined to the network (or not, when offline).
type Node struct {
	ipld.DAGService

	Repo    *store.Repo
	Host    host.Host // nil offline
	Bitswap *bitswap.Bitswap
	Mode    Mode

	router   contentRouter
	exchange exchange.Interface
	// store is the repo's blockstore as the network sees it: blocks put
	// there after arriving from a peer count as fetched.
	store   countingBlockstore
	tally   *tally
	sources *peerSources
	banned  *banList
	keeper  *peerKeeper
	live    *liveness
	mdns    *mdnsDiscovery
	logf    func(string, ...any)

	ctx    context.Context
	cancel context.CancelFunc
	tasks  sync.WaitGroup
}

// New joins repo to the network as opts say. Close releases the network
// side; the repo stays open and belongs to the caller.
func New(ctx context.Context, repo *store.Repo, opts Options) (*Node, error) {
	if opts.Mode == "" {
		opts.Mode = ModeLAN
	}
	n := &Node{Repo: repo, Mode: opts.Mode, tally: newTally(), sources: newPeerSources(), logf: opts.Logf}
	if n.logf == nil {
		n.logf = func(string, ...any) {}
	}
	n.ctx, n.cancel = context.WithCancel(ctx)
	if opts.Mode == ModeOffline {
		n.exchange = offline.Exchange(repo.Blocks)
	} else if err := n.startNetwork(opts); err != nil {
		n.Close()
		return nil, err
	}
	n.store = countingBlockstore{repo.Blocks, n.tally}
	n.DAGService = merkledag.NewDAGService(blockservice.New(n.store, n.exchange))
	return n, nil
}

func (n *Node) startNetwork(opts Options) error {
	peers, err := parsePeers(opts.Peers)
	if err != nil {
		return err
	}
	if opts.SwarmKey != nil {
		n.logf("private network: swarm key fingerprint %s", opts.SwarmKey.Fingerprint)
		if opts.SwarmKey.Warning != "" {
			n.logf("warning: %s", opts.SwarmKey.Warning)
		}
	}
	var note string
	if opts.Bootstrap, note = bootstrapFor(opts); note != "" {
		n.logf("%s", note)
	}
	n.banned = newBanList()
	n.live = newLiveness(n.ctx, n.logf)
	if n.Host, err = newHost(n.Repo, opts, n.banned, hearing{n.live}); err != nil {
		return err
	}
	n.live.start(n.Host)
	if n.router, err = newRouter(n.Host, n.Repo, opts); err != nil {
		return err
	}
	n.Bitswap = newBitswap(n.ctx, n.Host, n.router, n.Repo, n.tally, n.banLiar, n.live)
	n.exchange = stoppingExchange{SessionExchange: n.Bitswap, node: n.ctx}
	n.keeper = keepConnected(n.ctx, n.Host, peers, n.sources, n.logf)
	if opts.MDNS {
		n.startMDNS()
	}
	return nil
}

func (n *Node) startMDNS() {
	if !multicastInterface() {
		n.logf("warning: mDNS discovery off: no network interface supports multicast")
		return
	}
	d, err := startMDNS(n.ctx, n.Host, n.sources)
	if err != nil {
		n.logf("warning: mDNS discovery off: %v", err)
		return
	}
	n.mdns = d
}

// banLiar refuses a peer that sent blocks it was not asked for (wrong
// bytes for a wanted CID look exactly like that) and drops its
// connections, so sessions waiting on it ask honest peers instead.
func (n *Node) banLiar(p peer.ID) {
	if n.banned.has(p) {
		return
	}
	n.banned.add(p)
	n.logf("warning: peer %s sent blocks it was not asked for (wrong data?); disconnected and refused for %s", p, banDuration)
	// Not inline: this runs on the liar's own stream handler.
	go n.Host.Network().ClosePeer(p)
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
	if n.mdns != nil {
		errs = append(errs, n.mdns.close())
	}
	if n.keeper != nil {
		n.keeper.wait()
	}
	n.tasks.Wait()
	if n.live != nil {
		n.live.wait()
	}
	if n.Bitswap != nil {
		errs = append(errs, n.Bitswap.Close())
	}
	if n.router != nil {
		errs = append(errs, n.router.Close())
	}
	if n.Host != nil {
		errs = append(errs, n.Host.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close node: %w", err)
	}
	return nil
}
