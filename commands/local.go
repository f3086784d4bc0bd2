package commands

import (
	"context"
	"errors"

	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	pin "github.com/ipfs/boxo/pinning/pinner"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/imgp2p/imgp2p/image"
	"github.com/imgp2p/imgp2p/node"
	"github.com/imgp2p/imgp2p/store"
)

// localBackend runs operations on a repo this process owns. In a daemon it
// has the daemon's node; a one-shot command has none and builds a node
// only when a pull needs the network.
type localBackend struct {
	repo     *store.Repo
	node     *node.Node
	nodeOpts node.Options
	logf     func(string, ...any)
	// pinMu serialises changes to pins: pin rm decides which blob files
	// other images still need from the pins it sees.
	pinMu sync.Mutex
}

// newLocalBackend serves operations on repo, through n when it is a
// daemon's. Blob files this process finds to match their digests are
// remembered in the repo, so later reads of them, by any process, need
// not hash them again.
func newLocalBackend(repo *store.Repo, n *node.Node, opts node.Options) *localBackend {
	image.RememberVerified(repo.Verified)
	return &localBackend{repo: repo, node: n, nodeOpts: opts, logf: opts.Logf}
}

func (b *localBackend) Close() error { return b.repo.Close() }

// dag writes through the node when there is one, so bitswap learns of new
// blocks that peers may be waiting for.
func (b *localBackend) dag() ipld.DAGService {
	if b.node != nil {
		return b.node
	}
	return b.repo.OfflineDAG()
}

func (b *localBackend) Push(ctx context.Context, req pushRequest, body io.Reader) (pushResult, error) {
	var opts image.ImportOptions
	if req.Platform != "" {
		p, err := image.ParsePlatform(req.Platform)
		if err != nil {
			return pushResult{}, err
		}
		opts.Platform = p
	}
	// Garbage collection must not run between storing blocks and pinning.
	unlock := b.repo.Blocks.PinLock(ctx)
	defer unlock.Unlock(ctx)
	var imp image.Imported
	var err error
	switch {
	case req.Remote != "":
		ro := image.RemoteOptions{Insecure: req.Insecure, UserAgent: userAgent(), StallTimeout: req.Timeout}
		imp, err = image.ImportRemote(ctx, b.dag(), req.Remote, opts, ro)
	case req.Path != "":
		imp, err = image.ImportPath(ctx, b.dag(), req.Path, opts)
	default:
		imp, err = image.ImportArchive(ctx, b.dag(), body, opts)
	}
	if err != nil {
		return pushResult{}, err
	}
	var files []cid.Cid
	if req.Format == "nerdctl" {
		// The native root just written is left unpinned for GC.
		n, err := image.WriteNerdctl(ctx, b.dag(), imp.Root)
		if err != nil {
			return pushResult{}, fmt.Errorf("convert to nerdctl's format: %w", err)
		}
		imp.Root, files = n.Root, n.Files
	}
	if err := b.pinAndRecord(ctx, imp, files); err != nil {
		return pushResult{}, err
	}
	if err := b.repo.Sync(ctx); err != nil {
		return pushResult{}, err
	}
	if b.node != nil && b.node.Online() {
		if roots, err := image.BlobRoots(ctx, b.repo.OfflineDAG(), imp.Root); err == nil {
			b.node.Provide(roots)
		}
	}
	return pushResult{Root: imp.Root.String(), Names: imp.Names, Platforms: imp.Platforms, Size: imp.Size}, nil
}

// pinAndRecord lists an image, then pins its root and the blob files a
// nerdctl root names only through urls. Listed first, so that a process
// killed in between leaves an image `ls` shows as unpinned, which gc then
// forgets with its blocks, rather than pinned blocks nothing lists. On an
// error the list is put back as it was (an image listed before stays
// listed and pinned, names taken from older images go back to them): a
// failed push never loses what the repo held.
func (b *localBackend) pinAndRecord(ctx context.Context, imp image.Imported, files []cid.Cid) error {
	b.pinMu.Lock()
	defer b.pinMu.Unlock()
	rec := store.ImageRecord{Root: imp.Root, Names: imp.Names, Platforms: imp.Platforms, Size: imp.Size, Added: time.Now().UTC()}
	undo, err := b.repo.Images.PutUndoable(ctx, rec)
	if err != nil {
		return err
	}
	for _, c := range append([]cid.Cid{imp.Root}, files...) {
		if err := b.repo.Pins.PinWithMode(ctx, c, pin.Recursive, ""); err != nil {
			// The names this push took from older images go back to
			// them, and the image's own record is as it was (or gone).
			// Often ctx itself ended the pin (Ctrl-C): undo regardless.
			_ = undo(context.WithoutCancel(ctx))
			return fmt.Errorf("pin %s: %w", c, err)
		}
	}
	return nil
}

func (b *localBackend) Pull(ctx context.Context, req pullRequest, w io.Writer) (pullSummary, error) {
	start := time.Now()
	root, err := b.resolveRoot(ctx, req.Root)
	if err != nil {
		return pullSummary{}, err
	}
	opts, err := exportOptions(req)
	if err != nil {
		return pullSummary{}, err
	}
	p, err := b.plan(ctx, root, opts, req)
	if err != nil {
		return pullSummary{}, err
	}
	defer p.close()
	if p.node != nil && req.Timeout > 0 {
		var stop func()
		w, ctx, stop = watchStalls(ctx, w, p.node, req.Timeout, logfFrom(ctx, b.logf))
		defer stop()
	}
	switch req.Format {
	case formatDocker:
		err = p.export.WriteDockerArchive(ctx, w, req.Tags)
	case formatOCIArchive:
		err = p.export.WriteOCIArchive(ctx, w)
	default:
		err = fmt.Errorf("unknown format %q", req.Format)
	}
	if err != nil {
		if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
			err = cause
		}
		return pullSummary{}, fmt.Errorf("pull %s: %w", root, b.explainStall(ctx, p, err))
	}
	if err := p.complete(ctx); err != nil {
		return pullSummary{}, fmt.Errorf("fetch %s: %w", root, b.explainStall(ctx, p, err))
	}
	if err := b.recordPulled(ctx, root, p.export); err != nil {
		return pullSummary{}, err
	}
	if err := b.repo.Sync(ctx); err != nil {
		return pullSummary{}, err
	}
	p.announceBlobs(ctx)
	return p.summary(time.Since(start)), nil
}

func exportOptions(req pullRequest) (image.ExportOptions, error) {
	var opts image.ExportOptions
	switch {
	case req.Platform != "":
		p, err := image.ParsePlatform(req.Platform)
		if err != nil {
			return opts, err
		}
		opts.Platform = p
	case req.Format == formatDocker:
		// docker load takes one image per name: pick the host's.
		opts.Platform = image.HostPlatform()
	}
	for _, t := range req.Tags {
		if err := image.CheckTag(t); err != nil {
			return opts, err
		}
	}
	return opts, nil
}

// recordPulled lists a pulled root in the repo (cached, not pinned).
func (b *localBackend) recordPulled(ctx context.Context, root cid.Cid, exp *image.Export) error {
	if _, ok, err := b.repo.Images.Get(ctx, root); ok || err != nil {
		return err
	}
	return b.repo.Images.Put(ctx, store.ImageRecord{Root: root, Names: exp.Names(), Platforms: exp.Platforms(), Size: exp.Size(), Added: time.Now().UTC()})
}

func (b *localBackend) List(ctx context.Context) ([]imageInfo, error) {
	recs, err := b.repo.Images.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]imageInfo, 0, len(recs))
	for _, r := range recs {
		_, pinned, err := b.repo.Pins.IsPinnedWithType(ctx, r.Root, pin.Recursive)
		if err != nil {
			return nil, err
		}
		out = append(out, imageInfo{Root: r.Root.String(), Names: nonNil(r.Names), Platforms: nonNil(r.Platforms), Size: r.Size, Pinned: pinned, Added: r.Added})
	}
	return out, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (b *localBackend) ID(ctx context.Context) (idInfo, error) {
	id, err := peer.IDFromPrivateKey(b.repo.Identity)
	if err != nil {
		return idInfo{}, err
	}
	info := idInfo{ID: id.String(), Addresses: []string{}, Mode: string(b.nodeOpts.Mode), Agent: userAgent()}
	if b.node != nil {
		info.Mode = string(b.node.Mode)
		for _, a := range b.node.Addrs() {
			info.Addresses = append(info.Addresses, a.String())
		}
	}
	return info, nil
}

func (b *localBackend) Peers(ctx context.Context) ([]peerInfo, error) {
	if b.node == nil || !b.node.Online() {
		return nil, errNoNetwork
	}
	var out []peerInfo
	for _, p := range b.node.Peers() {
		out = append(out, peerInfo{ID: p.ID.String(), Addrs: p.Addrs, Source: p.Source, Agent: p.Agent})
	}
	return out, nil
}

func (b *localBackend) Providers(ctx context.Context, req providersRequest) ([]peerInfo, error) {
	if b.node == nil || !b.node.Online() {
		return nil, errNoNetwork
	}
	if req.Limit < 1 || req.Timeout <= 0 {
		return nil, fmt.Errorf("providers: limit %d and timeout %v must be positive", req.Limit, req.Timeout)
	}
	root, err := b.resolveRoot(ctx, req.Root)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	out := []peerInfo{}
	for _, p := range b.node.ProvidersOf(ctx, root, req.Limit) {
		info := peerInfo{ID: p.ID.String(), Addrs: []string{}}
		for _, a := range p.Addrs {
			info.Addrs = append(info.Addrs, a.String())
		}
		out = append(out, info)
	}
	return out, nil
}

var errNoNetwork = errors.New("no node is online on this repo: start `imgp2p daemon` first")

func (b *localBackend) Pin(ctx context.Context, req pinRequest) ([]pinInfo, error) {
	if req.Op == "ls" {
		var out []pinInfo
		for p := range b.repo.Pins.RecursiveKeys(ctx, true) {
			if p.Err != nil {
				return nil, p.Err
			}
			out = append(out, pinInfo{Root: p.Pin.Key.String(), Name: p.Pin.Name})
		}
		return out, nil
	}
	if req.Op == "rm-replaced" {
		return b.pinRmReplaced(ctx)
	}
	root, err := b.resolveRoot(ctx, req.Root)
	if err != nil {
		return nil, err
	}
	switch req.Op {
	case "add":
		return nil, b.pinAdd(ctx, root)
	case "rm":
		return nil, b.pinRm(ctx, root)
	}
	return nil, fmt.Errorf("unknown pin operation %q", req.Op)
}

// pinAdd pins a root, fetching what is missing when a network is at hand.
func (b *localBackend) pinAdd(ctx context.Context, root cid.Cid) error {
	unlock := b.repo.Blocks.PinLock(ctx)
	defer unlock.Unlock(ctx)
	dag := b.repo.OfflineDAG()
	if b.node != nil && b.node.Online() {
		dag = b.node
	}
	set := []cid.Cid{root}
	r, err := image.Open(ctx, dag, root)
	if err == nil {
		if set, err = r.PinSet(ctx); err != nil {
			return err
		}
	}
	st, err := b.repo.Local(ctx, set)
	if err != nil {
		return err
	}
	if !st.Complete() {
		if b.node == nil || !b.node.Online() {
			return fmt.Errorf("pin %s: not complete in the repo (%d blocks missing); pull it first or run the daemon online", root, st.Missing)
		}
		if err := b.node.Fetch(ctx, set); err != nil {
			return fmt.Errorf("pin %s: fetch: %w", root, err)
		}
	}
	if err := b.pinAll(ctx, set); err != nil {
		return err
	}
	if r != nil {
		if exp, err := r.Plan(ctx, image.ExportOptions{}); err == nil {
			return b.recordPulled(ctx, root, exp)
		}
	}
	return nil
}

func (b *localBackend) pinAll(ctx context.Context, set []cid.Cid) error {
	b.pinMu.Lock()
	defer b.pinMu.Unlock()
	for _, c := range set {
		if err := b.repo.Pins.PinWithMode(ctx, c, pin.Recursive, ""); err != nil {
			return fmt.Errorf("pin %s: %w", c, err)
		}
	}
	return b.repo.Pins.Flush(ctx)
}

// resolveRoot reads an image argument: a CID in any of its spellings, or
// the local name of an image in the repo.
func (b *localBackend) resolveRoot(ctx context.Context, arg string) (cid.Cid, error) {
	c, err := image.ParseCID(arg)
	if err == nil {
		return c, nil
	}
	if strings.HasPrefix(arg, "ipfs://") || strings.HasPrefix(arg, "/ipfs/") {
		return cid.Undef, err
	}
	return b.repo.Images.Resolve(ctx, arg)
}
