package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func pinCommand() *cli.Command {
	return &cli.Command{
		Name:      "pin",
		Usage:     "keep images in the repo, or let them go",
		ArgsUsage: "add|rm|ls",
		Description: `Pinned images survive garbage collection. push pins what it stores; pulled
images are cached until pinned.

   imgp2p pin add CID
   imgp2p pin rm CID
   imgp2p pin rm --replaced   # every image whose names moved to newer ones
   imgp2p pin ls`,
		Subcommands: []*cli.Command{
			pinOneCommand("add", "pin an image (fetching what is missing when the daemon is online)", nil),
			pinOneCommand("rm", "unpin an image (gc then deletes what nothing else keeps)", pinRmReplacedFlag),
			{
				Name:  "ls",
				Usage: "list pinned CIDs: image roots, and the blob files of nerdctl-format roots",
				Action: func(c *cli.Context) error {
					b, err := openBackend(c)
					if err != nil {
						return err
					}
					defer b.Close()
					pins, err := b.Pin(c.Context, pinRequest{Op: "ls"})
					if err != nil {
						return err
					}
					for _, p := range pins {
						fmt.Fprintln(c.App.Writer, p.Root)
					}
					return nil
				},
			},
		},
	}
}

// pinOneCommand pins or unpins the image named by its one argument and
// prints that argument. flag, when given, is an option that replaces the
// argument (see pinRmReplaced).
func pinOneCommand(op, usage string, flag *cli.BoolFlag) *cli.Command {
	cmd := &cli.Command{
		Name:      op,
		Usage:     usage,
		ArgsUsage: "CID|NAME",
		Action: func(c *cli.Context) error {
			if flag != nil && c.Bool(flag.Name) {
				return pinRmReplaced(c)
			}
			if c.NArg() != 1 {
				return fmt.Errorf("pin %s takes one CID or image name", op)
			}
			b, err := openBackend(c)
			if err != nil {
				return err
			}
			defer b.Close()
			_, err = b.Pin(c.Context, pinRequest{Op: op, Root: c.Args().First()})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(c.App.Writer, c.Args().First())
			return err
		},
	}
	if flag != nil {
		cmd.Flags = []cli.Flag{flag}
	}
	return cmd
}

// pinRmReplacedFlag unpins, in a rolling update, the versions whose names
// the new one took: after `push` (or `pin add`) of app:latest, the image
// that was app:latest keeps its pin under its CID alone.
var pinRmReplacedFlag = &cli.BoolFlag{
	Name:  "replaced",
	Usage: "instead of one image, unpin every image whose names all moved to pinned images pushed or pulled since (one that never had a name stays)",
}

func pinRmReplaced(c *cli.Context) error {
	if c.NArg() != 0 {
		return fmt.Errorf("pin rm --replaced takes no CID or name (got %q)", c.Args().Slice())
	}
	b, err := openBackend(c)
	if err != nil {
		return err
	}
	defer b.Close()
	gone, err := b.Pin(c.Context, pinRequest{Op: "rm-replaced"})
	// Printed even on an error: those were unpinned.
	for _, p := range gone {
		fmt.Fprintln(c.App.Writer, p.Root)
	}
	return err
}
