// Package commands is imgp2p's command line: each command parses its
// flags, makes one call on a backend (the repo this process owns, or the
// daemon that owns it) and prints the result. Data and the one result line
// go to stdout; everything else goes to stderr.
package commands

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/imgp2p/imgp2p/store"
)

// Build information, stamped by the release build.
var (
	Version = "dev"
	Commit  = "none"
)

func userAgent() string { return "imgp2p/" + Version }

// NewApp returns the imgp2p command line.
func NewApp() *cli.App {
	app := &cli.App{
		Name:  "imgp2p",
		Usage: "move OCI container images peer to peer over IPFS, with no registry and no external daemon",
		Description: `imgp2p stores images in its own IPFS repo as DAGs that are OCI image layouts,
and moves them between machines over libp2p and bitswap.

   imgp2p push ./oci-layout            # prints the image's CID
   docker save app:v1 | imgp2p push -  # a docker-archive from stdin
   imgp2p daemon                       # serve the repo to peers
   imgp2p pull CID | docker load       # on a machine that can reach a peer that has it`,
		Version: Version,
		Flags: []cli.Flag{
			&cli.StringFlag{
				Name:  "repo",
				Usage: "repo directory (default $" + store.EnvPath + ", else ~/.imgp2p)",
			},
		},
		Commands: []*cli.Command{
			pushCommand(),
			pullCommand(),
			copyCommand(),
			daemonCommand(),
			lsCommand(),
			idCommand(),
			serveCommand(),
			pinCommand(),
			gcCommand(),
			verifyCommand(),
			peersCommand(),
			providersCommand(),
			swarmKeyCommand(),
			completionCommand(),
			versionCommand(),
		},
		HideVersion:          true,
		EnableBashCompletion: true,
		OnUsageError:         usageError,
	}
	tightenUsage(app.Commands, "")
	return app
}

// usageError reports a bad flag as one error line on stderr. urfave/cli
// would first print the whole help to stdout, where `pull … | docker load`
// or `cid=$(imgp2p push …)` takes it for data.
func usageError(c *cli.Context, err error, _ bool) error {
	// The lineage runs from this command up to the app's own root command.
	name := []string{"--help"}
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != c.App.Name {
			name = append([]string{ctx.Command.Name}, name...)
		}
	}
	return fmt.Errorf("%w (see %s %s)", err, c.App.Name, strings.Join(name, " "))
}

// tightenUsage makes every command report usage errors as usageError
// does, and those that take no arguments refuse them: `imgp2p gc CID`
// collected everything unpinned, not that image.
func tightenUsage(cmds []*cli.Command, parent string) {
	for _, cmd := range cmds {
		cmd.OnUsageError = usageError
		name := strings.TrimSpace(parent + " " + cmd.Name)
		if action := cmd.Action; action != nil && cmd.ArgsUsage == "" {
			cmd.Action = func(c *cli.Context) error {
				if c.NArg() > 0 {
					return fmt.Errorf("%s takes no arguments (got %q)", name, c.Args().Slice())
				}
				return action(c)
			}
		}
		tightenUsage(cmd.Subcommands, name)
	}
}

func repoPath(c *cli.Context) string {
	if p := c.String("repo"); p != "" {
		return p
	}
	return store.DefaultPath()
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(c *cli.Context) error {
			_, err := fmt.Fprintf(c.App.Writer, "imgp2p %s (commit %s, %s %s/%s)\n", Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}
