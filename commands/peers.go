package commands

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"
)

func peersCommand() *cli.Command {
	return &cli.Command{
		Name:  "peers",
		Usage: "list the daemon's connected peers and how each was found",
		Description: `Each peer with its addresses and how it was found: static (--peer or the
config's Peers), mdns, dht, or inbound (it dialed us). Needs a running daemon.

   imgp2p peers`,
		Action: func(c *cli.Context) error {
			b, err := openBackend(c)
			if err != nil {
				return err
			}
			defer b.Close()
			peers, err := b.Peers(c.Context)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.App.Writer, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PEER\tFOUND BY\tADDRESSES\tAGENT")
			for _, p := range peers {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.ID, p.Source, strings.Join(p.Addrs, ","), p.Agent)
			}
			return tw.Flush()
		},
	}
}
