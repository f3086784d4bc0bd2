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
			&cli.StringFlag{Name: "listen", Value: defaultRegistryAddr, Usage: "serve the gateway on `HOST:PORT`"},
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
	srv *http.Server
	ln  net.Listener
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
	h := registry.New(registry.Options{DAG: b.dag(), Served: b.cacheServed()})
	return &gateway{ln: ln, srv: &http.Server{Handler: m.instrument(h), ReadHeaderTimeout: 30 * time.Second}}, nil
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

func (g *gateway) shutdown(ctx context.Context) error { return g.srv.Shutdown(ctx) }

// cacheServed lists each root the gateway serves in the repo, once: it
// stays cached (not pinned) like a pulled image. An online node also
// announces it, as a daemon's pull announces its root (see planOnline).
func (b *localBackend) cacheServed() func(context.Context, *image.Root) {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(ctx context.Context, root *image.Root) {
		mu.Lock()
		done := seen[root.CID.String()]
		seen[root.CID.String()] = true
		mu.Unlock()
		if done {
			return
		}
		if exp, err := root.Plan(ctx, image.ExportOptions{}); err == nil {
			_ = b.recordPulled(ctx, root.CID, exp)
		}
		if b.node != nil && b.node.Online() {
			b.node.Provide([]cid.Cid{root.CID})
		}
	}
}
