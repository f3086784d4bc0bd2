// Package commands is imgp2p's command line: each command parses its
// flags, makes one call on a backend (the repo this process owns, or the
// daemon that owns it) and prints the result. Data and the one result line
// go to stdout; everything else goes to stderr.
package commands

import (
	"fmt"
	"runtime"
	"slices"
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
		EnableBashCompletion: true,
		OnUsageError:         usageError,
		// Without an Action, urfave/cli answers `imgp2p frob` with "No help
		// topic for 'frob'" and exit status 3.
		Action: groupAction(""),
	}
	// `imgp2p --version`, as docker, crane and ipfs take it (no -v: that
	// reads as verbose to most users).
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
	cli.VersionPrinter = printVersion
	tightenUsage(app.Commands, "")
	return app
}

// groupAction is the action of the app and of commands that only hold
// subcommands. The app alone shows its help, as docker does; a group
// given nothing or a name it lacks is a one-line error naming its
// subcommands: `imgp2p swarm-key > swarm.key` wrote the help into the key
// file and exited 0.
func groupAction(parent string) cli.ActionFunc {
	return func(c *cli.Context) error {
		if parent == "" {
			if c.NArg() == 0 {
				return cli.ShowAppHelp(c)
			}
			return fmt.Errorf("unknown command %q (imgp2p --help lists them)", c.Args().First())
		}
		var names []string
		for _, sub := range c.Command.Subcommands {
			if sub.Name != "help" && !sub.Hidden {
				names = append(names, sub.Name)
			}
		}
		list := names[len(names)-1]
		if len(names) > 1 {
			list = strings.Join(names[:len(names)-1], ", ") + " or " + list
		}
		if c.NArg() == 0 {
			return fmt.Errorf("%s needs a subcommand: %s (imgp2p %s --help)", parent, list, parent)
		}
		return fmt.Errorf("%s has no subcommand %q: use %s (imgp2p %s --help)", parent, c.Args().First(), list, parent)
	}
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
		// --repo is the app's flag, but `imgp2p ls --repo DIR` is how
		// crane's and ipfs's global flags are given too: take it after
		// the command name as well (repoPath reads either).
		cmd.Flags = append(cmd.Flags, &cli.StringFlag{Name: "repo", Hidden: true})
		if action := cmd.Action; action != nil && cmd.ArgsUsage == "" {
			cmd.Action = func(c *cli.Context) error {
				if c.NArg() > 0 {
					return fmt.Errorf("%s takes no arguments (got %q)", name, c.Args().Slice())
				}
				return action(c)
			}
		}
		if cmd.Action == nil && len(cmd.Subcommands) > 0 {
			cmd.Action = groupAction(name)
		}
		tightenUsage(cmd.Subcommands, name)
	}
}

// repoPath is the --repo given nearest the command (after its name, else
// before it), else the default.
func repoPath(c *cli.Context) string {
	for _, ctx := range c.Lineage() {
		if slices.Contains(ctx.LocalFlagNames(), "repo") {
			if p := ctx.String("repo"); p != "" {
				return p
			}
		}
	}
	return store.DefaultPath()
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version",
		Action: func(c *cli.Context) error {
			printVersion(c)
			return nil
		},
	}
}

func printVersion(c *cli.Context) {
	fmt.Fprintf(c.App.Writer, "imgp2p %s (commit %s, %s %s/%s, repo format %d)\n", Version, Commit, runtime.Version(), runtime.GOOS, runtime.GOARCH, store.RepoVersion)
}
