package commands

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"
)

// timeoutFlag reads --timeout, refusing what bounds nothing: pull took
// `--timeout 0` (or -5s) and failed at once with "no peer provided it
// within 0s", copy read 0 as its default, providers refused it. Now every
// command refuses it, as providers did.
func timeoutFlag(c *cli.Context) (time.Duration, error) {
	d := c.Duration("timeout")
	if d <= 0 {
		return 0, fmt.Errorf("--timeout %v: want a positive duration", d)
	}
	return d, nil
}
