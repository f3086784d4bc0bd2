package commands

import (
	"encoding/json"

	"github.com/urfave/cli/v2"
)

func idCommand() *cli.Command {
	return &cli.Command{
		Name:  "id",
		Usage: "print the node's identity and addresses as JSON",
		Description: `Like ipfs id: the peer ID and, while the daemon runs, the addresses peers can
dial (each ending in /p2p/ID), ready for another node's --peer.

   imgp2p id
   imgp2p id | jq -r '.Addresses[0]'`,
		Action: func(c *cli.Context) error {
			b, err := openBackend(c)
			if err != nil {
				return err
			}
			defer b.Close()
			info, err := b.ID(c.Context)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(c.App.Writer)
			enc.SetIndent("", "  ")
			return enc.Encode(info)
		},
	}
}
