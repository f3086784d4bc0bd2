package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/imgp2p/imgp2p/image"
	"github.com/imgp2p/imgp2p/node"
	"github.com/imgp2p/imgp2p/store"
)

func metricsFlag() cli.Flag {
	return &cli.StringFlag{Name: "metrics", Usage: "serve Prometheus metrics on `HOST:PORT` (a bare :PORT means loopback)"}
}

// reprovideInterval keeps provider records fresh; the DHT drops them
// after 48 hours.
const reprovideInterval = 12 * time.Hour

func daemonCommand() *cli.Command {
	return &cli.Command{
		Name:  "daemon",
		Usage: "run a node that serves the repo's images to peers",
		Description: `Serves every block in the repo over bitswap and announces image and blob roots
to the DHT. While it runs, every other command on the same repo (push, pull, copy,
ls, id, pin, gc, verify, peers, providers) goes through it. Stops cleanly on SIGINT or SIGTERM.

   imgp2p daemon
   imgp2p daemon --listen /ip4/127.0.0.1/tcp/4001
   imgp2p daemon --peer /ip4/10.0.0.2/tcp/4001/p2p/12D3…
   imgp2p daemon --registry 127.0.0.1:5050   # also the registry gateway
   imgp2p daemon --offline
   imgp2p daemon --public                  # also serve the public IPFS network
   imgp2p daemon --swarm-key ./swarm.key   # a private network`,
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "listen", Usage: "listen on `MULTIADDR` (repeatable; replaces the config's Listen, default TCP and QUIC on port 4001)"},
			&cli.StringSliceFlag{Name: "peer", Usage: "dial `MULTIADDR` (ending in /p2p/ID) at start and keep it connected (repeatable)"},
			&cli.StringFlag{Name: "registry", Usage: "also serve the read-only registry gateway on `HOST:PORT` (a bare :PORT means loopback)"},
			metricsFlag(),
		}, networkFlags()...),
		Action: func(c *cli.Context) error {
			return runNode(c, c.StringSlice("listen"), c.String("registry"))
		},
	}
}

// runNode runs a long-lived node on the repo: bitswap, the DHT, the local
// API and, when registry is set, the registry gateway.
func runNode(c *cli.Context, listen []string, registry string) error {
	ctx := c.Context
	gatewayFlag, swarmFlag := "registry", "--listen"
	if c.Command.Name == "serve" {
		gatewayFlag, swarmFlag = "listen", "--swarm-listen"
	}
	if registry != "" {
		var err error
		if registry, err = httpAddr(gatewayFlag, swarmFlag, registry); err != nil {
			return err
		}
	}
	metricsAddr := c.String("metrics")
	if metricsAddr != "" {
		var err error
		if metricsAddr, err = httpAddr("metrics", swarmFlag, metricsAddr); err != nil {
			return err
		}
	}
	setMemoryLimit(daemonMemoryLimit)
	repo, err := openForNode(c, registry)
	if err != nil {
		return err
	}
	defer repo.Close()
	opts, err := nodeOptions(c, repo)
	if err != nil {
		return err
	}
	opts.Peers = append(append([]string{}, opts.Peers...), c.StringSlice("peer")...)
	if len(listen) > 0 {
		opts.Listen = listen
	}
	n, err := node.New(ctx, repo, opts)
	if err != nil {
		return err
	}
	defer n.Close()
	b := newLocalBackend(repo, n, opts)
	api, err := listenAPI(b)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(api.serve)
	stops := []func(context.Context) error{api.shutdown}
	var m *metrics
	if metricsAddr != "" {
		m = newMetrics(n)
		if err := m.listen(metricsAddr); err != nil {
			api.shutdown(ctx)
			return err
		}
		g.Go(m.serve)
		stops = append(stops, m.shutdown)
		fmt.Fprintf(c.App.ErrWriter, "metrics: http://%s/metrics\n", m.addr())
	}
	if registry != "" {
		gw, err := listenGateway(b, registry, m)
		if err != nil {
			api.shutdown(ctx)
			return err
		}
		g.Go(gw.serve)
		stops = append(stops, gw.shutdown)
		registry = gw.addr()
	}
	info := announce(c, b, registry)
	notifyService(b.logf, sd.SdNotifyReady, readyStatus(info.Mode, info.ID))
	g.Go(func() error {
		<-gctx.Done()
		notifyService(b.logf, sd.SdNotifyStopping, "STATUS=stopping")
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, stop := range stops {
			stop(sctx)
		}
		return nil
	})
	if n.Online() {
		g.Go(func() error { reprovide(gctx, b); return nil })
	}
	g.Go(func() error { releaseMappedPages(gctx, repo); return nil })
	err = g.Wait()
	fmt.Fprintf(c.App.ErrWriter, "imgp2p %s stopped\n", c.Command.Name)
	return err
}

// announce prints what the daemon is and where it listens, and returns
// that.
func announce(c *cli.Context, b *localBackend, registry string) idInfo {
	info, _ := b.ID(c.Context)
	fmt.Fprintf(c.App.ErrWriter, "imgp2p %s ready (%s)\npeer ID: %s\n", c.Command.Name, info.Mode, info.ID)
	if len(info.Addresses) > 0 {
		fmt.Fprintf(c.App.ErrWriter, "listening on:\n  %s\n", strings.Join(info.Addresses, "\n  "))
	}
	fmt.Fprintf(c.App.ErrWriter, "API: unix socket %s/%s\n", b.repo.Path, apiSocket)
	if registry != "" {
		fmt.Fprintf(c.App.ErrWriter, "registry gateway: %s (docker pull %s/ipfs/<CID>)\n", registry, registry)
	}
	return info
}

// reprovide announces every image in the repo now and then periodically.
func reprovide(ctx context.Context, b *localBackend) {
	for {
		recs, err := b.repo.Images.List(ctx)
		if err == nil {
			for _, r := range recs {
				if roots, err := image.BlobRoots(ctx, b.repo.OfflineDAG(), r.Root); err == nil {
					b.node.Provide(roots)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(reprovideInterval):
		}
	}
}

// openForNode opens the repo for daemon or serve. A one-shot command may
// hold it for a moment, so that is waited out; a daemon holding it will
// not let go, so that is an error at once, saying what to do instead (it
// was a silent 5 s wait and "repo … is in use by process N").
func openForNode(c *cli.Context, registry string) (*store.Repo, error) {
	path := repoPath(c)
	repo, err := store.Open(c.Context, path)
	var locked *store.LockedError
	if !errors.As(err, &locked) {
		return repo, err
	}
	if d, ok := dialDaemon(c.Context, locked.Repo); ok {
		d.Close()
		owner := "a daemon"
		if locked.PID > 0 {
			owner = fmt.Sprintf("a daemon (process %d)", locked.PID)
		}
		if c.Command.Name == "serve" {
			return nil, fmt.Errorf("%s already runs on repo %s: run the gateway in it (imgp2p daemon --registry %s), or stop it first", owner, locked.Repo, registry)
		}
		return nil, fmt.Errorf("%s already runs on repo %s: stop it first, or give this one another --repo", owner, locked.Repo)
	}
	return store.OpenWaiting(c.Context, path, 5*time.Second)
}
