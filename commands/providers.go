package commands

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
)

func providersCommand() *cli.Command {
	return &cli.Command{
		Name:      "providers",
		Usage:     "ask the DHT which peers provide an image (or any CID)",
		ArgsUsage: "CID|NAME",
		Description: `Like ipfs routing findprovs: lists the peers that announced the CID, this
node included, without connecting to them. A daemon announces the images it
pushes and pulls, and the root of each image its gateway serves. Needs a
running daemon.

   imgp2p providers bafy…
   imgp2p providers --limit 5 --timeout 10s bafy…`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "limit", Value: 20, Usage: "stop after `N` providers"},
			&cli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "stop looking after this long"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return argsError(c, "providers takes one CID or image name")
			}
			if c.Int("limit") < 1 {
				return fmt.Errorf("--limit %d: want at least 1", c.Int("limit"))
			}
			timeout, err := timeoutFlag(c)
			if err != nil {
				return err
			}
			b, err := openBackend(c)
			if err != nil {
				return err
			}
			defer b.Close()
			found, err := b.Providers(c.Context, providersRequest{Root: c.Args().First(), Limit: c.Int("limit"), Timeout: timeout})
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PEER\tADDRESSES")
			for _, p := range found {
				fmt.Fprintf(tw, "%s\t%s\n", p.ID, strings.Join(p.Addrs, ","))
			}
			return tw.Flush()
		},
	}
}
