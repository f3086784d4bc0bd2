package commands

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"
)

func lsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ls",
		Usage: "list the images in the repo",
		Description: `Shows each image root with the names and platforms it holds, its size and
whether it is pinned (pushed or pinned images are; pulled ones are cached). An
image whose names all moved to an image pushed or pulled since shows -, pinned as
it was: imgp2p pin rm --replaced unpins it once a pinned image holds its names.

   imgp2p ls
   imgp2p ls -q     # CIDs only`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only CIDs"},
		},
		Action: func(c *cli.Context) error {
			b, err := openBackend(c)
			if err != nil {
				return err
			}
			defer b.Close()
			images, err := b.List(c.Context)
			if err != nil {
				return err
			}
			if c.Bool("quiet") {
				for _, im := range images {
					fmt.Fprintln(c.App.Writer, im.Root)
				}
				return nil
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CID\tNAMES\tPLATFORMS\tSIZE\tPINNED")
			for _, im := range images {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", im.Root, orDash(im.Names), orDash(im.Platforms), humanize.IBytes(uint64(im.Size)), im.Pinned)
			}
			return tw.Flush()
		},
	}
}

func orDash(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return printable(strings.Join(s, ","))
}
