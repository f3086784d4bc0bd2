package commands

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"

	"github.com/imgp2p/imgp2p/image"
	"github.com/imgp2p/imgp2p/node"
	"github.com/imgp2p/imgp2p/store"
)

// pullPlan is a resolved pull: the export to write and, when blocks must
// come from peers, the node fetching them.
type pullPlan struct {
	export *image.Export
	node   *node.Node
	local  store.LocalStat
	before node.Stats
	// fetch brings the plan's blocks from peers; nil when all are local.
	fetch *node.Fetch
	// blobs are the file CIDs of export.Blobs(), in that order, when
	// fetch is set: what a stalled pull names as missing.
	blobs []cid.Cid
	// announces: node is a daemon's, which tells the DHT what it pulls.
	announces bool
	// stop ends the background fetch and any node this pull started.
	stop func()
}

func (p *pullPlan) close() { p.stop() }

// complete returns once the repo holds all the plan read, so that the
// image a pull lists as in the repo really is: the writer may finish
// before the fetch has brought files the export does not read (the
// layout's oci-layout, say).
func (p *pullPlan) complete(ctx context.Context) error {
	if p.fetch == nil {
		return nil
	}
	select {
	case <-p.fetch.Done():
		return p.fetch.Wait()
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// announceBlobs tells the DHT that a daemon now holds every blob the pull
// wrote, as a push does.
func (p *pullPlan) announceBlobs(ctx context.Context) {
	if !p.announces {
		return
	}
	if blobs, err := p.export.BlobCIDs(ctx); err == nil {
		p.node.Provide(blobs)
	}
}

func (p *pullPlan) summary(elapsed time.Duration) pullSummary {
	s := pullSummary{Size: p.export.Size(), LocalBlocks: p.local.Blocks, LocalBytes: p.local.Bytes, Elapsed: elapsed}
	if p.node != nil {
		after := p.node.Stats()
		s.FetchedBlocks = after.Blocks - p.before.Blocks
		s.FetchedBytes = after.Bytes - p.before.Bytes
		s.PeerBytes = map[string]int64{}
		for id, n := range after.PeerBytes {
			if d := n - p.before.PeerBytes[id]; d > 0 {
				s.PeerBytes[id.String()] = d
			}
		}
	}
	return s
}

// plan resolves what a pull writes. When the repo holds every block it
// needs, no network is opened at all.
//
// The plan holds the repo's pin lock until it is closed: blocks it fetches
// are not pinned, and garbage collection must not take them mid-pull.
func (b *localBackend) plan(ctx context.Context, root cid.Cid, opts image.ExportOptions, req pullRequest) (*pullPlan, error) {
	unlock := b.repo.Blocks.PinLock(ctx)
	p, err := b.planUnlocked(ctx, root, opts, req)
	if err != nil {
		unlock.Unlock(ctx)
		return nil, err
	}
	stop := p.stop
	p.stop = func() {
		stop()
		unlock.Unlock(ctx)
	}
	return p, nil
}

func (b *localBackend) planUnlocked(ctx context.Context, root cid.Cid, opts image.ExportOptions, req pullRequest) (*pullPlan, error) {
	if exp, st, err := b.planLocal(ctx, root, opts); err != nil {
		return nil, err
	} else if exp != nil && st.Complete() {
		return &pullPlan{export: exp, local: st, stop: func() {}}, nil
	}
	offline := req.Offline || b.nodeOpts.Mode == node.ModeOffline
	if b.node != nil {
		// The daemon's node decides; --offline still forbids fetching.
		offline = req.Offline || !b.node.Online()
	}
	if offline {
		return nil, fmt.Errorf("%s is not in the repo (or only partly) and the node is offline: run without --offline, or through a daemon that is online", root)
	}
	return b.planOnline(ctx, root, opts, req)
}

// planLocal plans from the repo alone. A nil export means the root's
// metadata is not all local: a concurrent pull of the same image may have
// fetched some of it and not yet the rest.
func (b *localBackend) planLocal(ctx context.Context, root cid.Cid, opts image.ExportOptions) (*image.Export, store.LocalStat, error) {
	exp, cids, _, err := planFrom(ctx, b.repo.OfflineDAG(), root, opts)
	if ipld.IsNotFound(err) {
		return nil, store.LocalStat{}, nil
	}
	if err != nil {
		return nil, store.LocalStat{}, err
	}
	st, err := b.repo.Local(ctx, cids)
	return exp, st, err
}

func (b *localBackend) planOnline(ctx context.Context, root cid.Cid, opts image.ExportOptions, req pullRequest) (*pullPlan, error) {
	// --timeout bounds everything spent finding the image, dialing
	// --peer addresses included.
	resolveCtx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	n, stopNode, err := b.onlineNode(ctx, resolveCtx, req.Peers)
	if err != nil {
		return nil, err
	}
	p := &pullPlan{node: n, before: n.Stats()}
	fail := func(err error) (*pullPlan, error) {
		stopNode()
		return nil, err
	}
	watch := watchResolve(resolveCtx, n, root, logfFrom(ctx, b.logf))
	exp, cids, blobs, err := planFrom(resolveCtx, n, root, opts)
	watch.stop()
	if err != nil {
		return fail(b.resolveError(resolveCtx, root, n, req, watch, err))
	}
	if p.local, err = b.repo.Local(ctx, cids); err != nil {
		return fail(err)
	}
	// Metadata fetched while planning is local now but was not before.
	during := n.Stats()
	p.local.Blocks = max(0, p.local.Blocks-(during.Blocks-p.before.Blocks))
	p.local.Bytes = max(0, p.local.Bytes-(during.Bytes-p.before.Bytes))
	// The fetch alone asks peers for blocks; the writer reads through it,
	// waiting for what has not arrived, so a fetch error surfaces there.
	fetch := n.StartFetch(ctx, cids)
	p.export = exp.ReadingFrom(fetch.DAG())
	p.fetch = fetch
	p.blobs = blobs
	if n == b.node {
		// A daemon announces what it pulls, as Kubo announces each block
		// it receives: the root at once, so that pulls starting later find
		// this node and take from it what it holds so far; the blobs once
		// all are here (announceBlobs). A one-shot pull's node is gone
		// in moments: a record naming it would only mislead.
		n.Provide([]cid.Cid{root})
		p.announces = true
	}
	p.stop = func() {
		fetch.Stop()
		_ = fetch.Wait()
		stopNode()
	}
	return p, nil
}

// planFrom opens root in dag and plans its export, returning the CIDs of
// every file the export reads (the layout's own files and the blobs), and
// those of the blobs alone.
func planFrom(ctx context.Context, dag ipld.DAGService, root cid.Cid, opts image.ExportOptions) (*image.Export, []cid.Cid, []cid.Cid, error) {
	r, err := image.Open(ctx, dag, root)
	if err != nil {
		return nil, nil, nil, err
	}
	exp, err := r.Plan(ctx, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	blobs, err := exp.BlobCIDs(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	return exp, append(r.LayoutFiles(), blobs...), blobs, nil
}

// onlineNode returns the daemon's node, or starts a short-lived one (that
// lives as long as ctx) listening on random ports, and dials the given
// peers within dialCtx. A peer that cannot be reached is reported, not
// fatal: other peers may have the image.
func (b *localBackend) onlineNode(ctx, dialCtx context.Context, peers []string) (*node.Node, func(), error) {
	if b.node != nil {
		if len(peers) > 0 {
			if err := b.node.Connect(dialCtx, peers); err != nil {
				logfFrom(ctx, b.logf)("warning: %v", err)
			}
		}
		return b.node, func() {}, nil
	}
	opts := b.nodeOpts
	opts.Peers = append(append([]string{}, opts.Peers...), peers...)
	opts.Listen = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}
	n, err := node.New(ctx, b.repo, opts)
	if err != nil {
		return nil, nil, err
	}
	return n, func() { n.Close() }, nil
}

// resolveError explains a failed resolve; a timeout says what was tried.
func (b *localBackend) resolveError(ctx context.Context, root cid.Cid, n *node.Node, req pullRequest, w *resolveWatch, err error) error {
	if ctx.Err() == nil {
		return err
	}
	var tried []string
	if len(req.Peers) > 0 {
		tried = append(tried, fmt.Sprintf("dialing %v", req.Peers))
	}
	if b.nodeOpts.MDNS && n.Mode != node.ModeOffline {
		tried = append(tried, "mDNS")
	}
	tried = append(tried, map[node.Mode]string{node.ModeLAN: "the LAN DHT", node.ModePublic: "the LAN and public DHTs"}[n.Mode])
	hint := ""
	if k := b.nodeOpts.SwarmKey; k != nil {
		hint = fmt.Sprintf("; this node is in the private network with swarm key fingerprint %s, and peers without that key cannot connect", k.Fingerprint)
	}
	return fmt.Errorf("%s: no peer provided it within %s (tried %s; %s, %d providers found%s)",
		root, req.Timeout, strings.Join(tried, ", "), peerCounts(n), w.providers.Load(), hint)
}
