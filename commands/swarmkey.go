package commands

import (
	"github.com/urfave/cli/v2"

	"github.com/imgp2p/imgp2p/node"
)

func swarmKeyCommand() *cli.Command {
	return &cli.Command{
		Name:  "swarm-key",
		Usage: "make keys for private networks",
		Subcommands: []*cli.Command{{
			Name:  "generate",
			Usage: "print a new private-network key in Kubo's swarm.key format",
			Description: `Every node of a private network needs the same key, in its repo as swarm.key
(mode 0600) or given with --swarm-key. Kubo reads the same file.

   mkdir -p ~/.imgp2p && (umask 077 && imgp2p swarm-key generate > ~/.imgp2p/swarm.key)`,
			Action: func(c *cli.Context) error {
				key, err := node.GenerateSwarmKey()
				if err != nil {
					return err
				}
				_, err = c.App.Writer.Write(key)
				return err
			},
		}},
	}
}
