package commands

import (
	"fmt"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"
)

func gcCommand() *cli.Command {
	return &cli.Command{
		Name:  "gc",
		Usage: "delete every block no pin keeps, and give the disk space back",
		Description: `Pushed and pinned images stay; pulled (cached) images and leftovers of failed
operations go. Pushes and pulls in flight are waited for, never collected.

   imgp2p gc
   imgp2p pin rm CID && imgp2p gc`,
		Action: func(c *cli.Context) error {
			b, err := openBackend(c)
			if err != nil {
				return err
			}
			defer b.Close()
			res, err := b.GC(c.Context)
			if err != nil {
				return fmt.Errorf("gc: %w", err)
			}
			for _, root := range res.Forgotten {
				// Said as what gc did, not as an error: the image was unpinned.
				fmt.Fprintf(c.App.ErrWriter, "collected image %s (not pinned)\n", root)
			}
			_, err = fmt.Fprintf(c.App.Writer, "removed %d blocks (%s)\n", res.Blocks, humanize.IBytes(uint64(res.Bytes)))
			return err
		},
	}
}

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check every block against its CID and every blob against its digest",
		ArgsUsage: "[CID|NAME]",
		Description: `Like ipfs repo verify, plus each image's blobs re-read and checked against
their OCI descriptors. Prints each problem on stdout and exits non-zero if there
is any.

   imgp2p verify
   imgp2p verify imgp2p-test/hello:v1
   imgp2p verify --repair && imgp2p pull CID >/dev/null   # fetch them again`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "repair", Usage: "remove the damaged blocks found, so that pulling their images again fetches them from peers"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				// Only the first was verified, and the rest went unchecked.
				return fmt.Errorf("verify takes one CID or name, or none for the whole repo (got %q)", c.Args().Slice())
			}
			b, err := openBackend(c)
			if err != nil {
				return err
			}
			defer b.Close()
			res, err := b.Verify(c.Context, verifyRequest{Root: c.Args().First(), Repair: c.Bool("repair")})
			for _, p := range res.Problems {
				fmt.Fprintln(c.App.Writer, p)
			}
			for _, r := range res.Removed {
				fmt.Fprintf(c.App.Writer, "removed damaged block %s\n", r)
			}
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			if len(res.Removed) > 0 {
				fmt.Fprintf(c.App.ErrWriter, "removed %d damaged blocks: pull the images that held them again to fetch them from peers\n", len(res.Removed))
			}
			fmt.Fprintf(c.App.ErrWriter, "verified %d blocks and %d blobs: %d problems\n", res.Blocks, res.Blobs, len(res.Problems))
			if len(res.Problems) > 0 {
				return cli.Exit("", 1)
			}
			return nil
		},
	}
}
