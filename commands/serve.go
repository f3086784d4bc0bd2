package commands

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/urfave/cli/v2"

	"github.com/imgp2p/imgp2p/image"
	"github.com/imgp2p/imgp2p/image/registry"
)

const defaultRegistryAddr = "127.0.0.1:5050"

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "run the node with a read-only registry gateway at HOST:PORT/ipfs/<CID>",
		Description: `Any OCI client pulls images straight from IPFS through it: docker, podman,
containerd, crane, skopeo, and Dockerfile FROM lines. Images not in the repo are
fetched from peers as they are read; range requests fetch only what they cover.
Listens on loopback unless told otherwise.

   imgp2p serve
   docker pull 127.0.0.1:5050/ipfs/CID
   crane manifest 127.0.0.1:5050/ipfs/CID
   imgp2p serve --listen 0.0.0.0:5050      # reachable from other hosts, explicitly`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "listen", Value: defaultRegistryAddr, Usage: "serve the gateway on `HOST:PORT` (a bare :PORT means loopback)"},
			&cli.StringSliceFlag{Name: "swarm-listen", Usage: "libp2p listen `MULTIADDR` (repeatable; default from the config)"},
			&cli.StringSliceFlag{Name: "peer", Usage: "dial `MULTIADDR` (ending in /p2p/ID) at start and keep it connected (repeatable)"},
			metricsFlag(),
		}, networkFlags()...),
		Action: func(c *cli.Context) error {
			return runNode(c, c.StringSlice("swarm-listen"), c.String("listen"))
		},
	}
}

type gateway struct {
	srv      *http.Server
	ln       net.Listener
	recorder *servedRecorder
}

// addr is where the gateway really listens (a :0 port resolved).
func (g *gateway) addr() string { return g.ln.Addr().String() }

func listenGateway(b *localBackend, addr string, m *metrics) (*gateway, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("registry gateway: %w", err)
	}
	if host, _, _ := net.SplitHostPort(addr); !isLoopbackHost(host) {
		b.logf("warning: the registry gateway on %s is reachable from other hosts", addr)
	}
	rec := newServedRecorder(b)
	h := registry.New(registry.Options{DAG: b.dag(), Served: rec.served})
	srv := &http.Server{
		Handler:           m.instrument(h),
		ReadHeaderTimeout: 30 * time.Second,
		// Writes are bounded by the handler (registry.Options.StallTimeout).
		IdleTimeout: 2 * time.Minute,
	}
	return &gateway{ln: ln, srv: srv, recorder: rec}, nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (g *gateway) serve() error {
	if err := g.srv.Serve(g.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (g *gateway) shutdown(ctx context.Context) error {
	err := g.srv.Shutdown(ctx)
	g.recorder.stop()
	return err
}

// recordTimeout bounds working out what a served root holds.
const recordTimeout = 2 * time.Minute

// servedRecorder lists each root the gateway serves in the repo: it stays
// cached (not pinned) like a pulled image. An online node also announces
// it, as a daemon's pull announces its root (see planOnline). Recording
// reads every platform's manifest, which may have to come from peers (or
// never come: a peer that pulled one platform holds only that one), so it
// runs beside the response rather than ahead of it, and a root whose
// record failed is tried again the next time it is served.
type servedRecorder struct {
	b      *localBackend
	ctx    context.Context
	cancel context.CancelFunc
	work   sync.WaitGroup

	mu        sync.Mutex
	announced map[cid.Cid]bool
	busy      map[cid.Cid]bool // being recorded, or recorded
}

func newServedRecorder(b *localBackend) *servedRecorder {
	ctx, cancel := context.WithCancel(context.Background())
	return &servedRecorder{b: b, ctx: ctx, cancel: cancel, announced: map[cid.Cid]bool{}, busy: map[cid.Cid]bool{}}
}

func (s *servedRecorder) served(_ context.Context, root *image.Root) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return // stopping: the repo is about to close
	}
	if !s.announced[root.CID] && s.b.node != nil && s.b.node.Online() {
		s.announced[root.CID] = true
		s.b.node.Provide([]cid.Cid{root.CID})
	}
	if s.busy[root.CID] {
		return
	}
	s.busy[root.CID] = true
	s.work.Go(func() {
		ctx, cancel := context.WithTimeout(s.ctx, recordTimeout)
		defer cancel()
		exp, err := root.Plan(ctx, image.ExportOptions{})
		if err == nil {
			err = s.b.recordPulled(ctx, root.CID, exp)
		}
		if err != nil {
			s.mu.Lock()
			delete(s.busy, root.CID)
			s.mu.Unlock()
		}
	})
}

// recording says whether root is being recorded or was.
func (s *servedRecorder) recording(root cid.Cid) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.busy[root]
}

// stop ends recordings under way and waits for them.
func (s *servedRecorder) stop() {
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	s.work.Wait()
}
