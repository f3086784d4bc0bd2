package commands

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func pinCommand() *cli.Command {
	pinOp := func(op, usage string) *cli.Command {
		return &cli.Command{
			Name:      op,
			Usage:     usage,
			ArgsUsage: "CID|NAME",
			Action: func(c *cli.Context) error {
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
	}
	return &cli.Command{
		Name:      "pin",
		Usage:     "keep images in the repo, or let them go",
		ArgsUsage: "add|rm|ls",
		Description: `Pinned images survive garbage collection. push pins what it stores; pulled
images are cached until pinned.

   imgp2p pin add CID
   imgp2p pin rm CID
   imgp2p pin ls`,
		Subcommands: []*cli.Command{
			pinOp("add", "pin an image (fetching what is missing when the daemon is online)"),
			pinOp("rm", "unpin an image (gc then deletes what nothing else keeps)"),
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
