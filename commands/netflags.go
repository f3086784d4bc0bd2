package commands

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/imgp2p/imgp2p/node"
	"github.com/imgp2p/imgp2p/store"
)

// networkFlags are the flags of every command that may start a node.
func networkFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "offline", Usage: "no network at all, like ipfs daemon --offline: only what the repo holds"},
		&cli.BoolFlag{Name: "public", Usage: "also join the public IPFS network (Amino DHT, bootstrap peers); default is the LAN only"},
		&cli.BoolFlag{Name: "mdns", Value: true, EnvVars: []string{"IMGP2P_MDNS"}, Usage: "discover peers on the LAN by mDNS"},
		&cli.StringFlag{Name: "swarm-key", Usage: "join the private network of the Kubo-format key in `FILE` (default: swarm.key in the repo, if present)"},
	}
}

// hiddenFlags keeps flags accepted but out of the help. push takes the
// network flags only so that command lines written when it listed them
// still run: it starts no node (a daemon announces what it stores by its
// own settings), so `push --public` promised what it never did.
func hiddenFlags(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		switch f := f.(type) {
		case *cli.BoolFlag:
			f.Hidden = true
		case *cli.StringFlag:
			f.Hidden = true
		}
	}
	return flags
}

// nodeOptions reads the network flags over the repo's config.
func nodeOptions(c *cli.Context, repo *store.Repo) (node.Options, error) {
	mode, err := node.ParseMode(repo.Config.Mode)
	if err != nil {
		return node.Options{}, fmt.Errorf("config %s: %w", repo.Path, err)
	}
	switch {
	case c.Bool("offline"):
		mode = node.ModeOffline
	case c.Bool("public"):
		mode = node.ModePublic
	}
	mdns := repo.Config.MDNS == nil || *repo.Config.MDNS
	if c.IsSet("mdns") {
		mdns = c.Bool("mdns")
	}
	opts := node.Options{
		Mode:      mode,
		MDNS:      mdns,
		Listen:    repo.Config.Listen,
		Peers:     repo.Config.Peers,
		Bootstrap: repo.Config.Bootstrap,
		UserAgent: userAgent(),
		Logf:      stderrLogf(c),
	}
	keyPath := c.String("swarm-key")
	if keyPath == "" {
		keyPath = filepath.Join(repo.Path, node.SwarmKeyFile)
		if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
			return opts, nil
		}
	}
	if opts.SwarmKey, err = node.ReadSwarmKey(keyPath); err != nil {
		return node.Options{}, err
	}
	return opts, nil
}

func stderrLogf(c *cli.Context) func(string, ...any) {
	if c.Bool("quiet") {
		// -q leaves errors alone on stderr: no waiting, stall or warning
		// lines either, whether they come from this process or, for its
		// requests, from a daemon.
		return func(string, ...any) {}
	}
	return func(format string, args ...any) {
		fmt.Fprintf(c.App.ErrWriter, "imgp2p: "+format+"\n", args...)
	}
}
