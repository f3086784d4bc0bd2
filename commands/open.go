package commands

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/imgp2p/imgp2p/store"
)

const apiSocket = "api.sock"

// openBackend opens the repo for this command alone or, when a daemon owns
// it, connects to that daemon. A repo owned by anything else is an error
// that names the owner.
func openBackend(c *cli.Context) (backend, error) {
	path := repoPath(c)
	repo, err := store.Open(c.Context, path)
	if err == nil {
		// We own the repo, so a socket left in it is from a dead daemon.
		_ = os.Remove(filepath.Join(repo.Path, apiSocket))
		opts, err := nodeOptions(c, repo)
		if err != nil {
			repo.Close()
			return nil, err
		}
		return &localBackend{repo: repo, nodeOpts: opts, logf: opts.Logf}, nil
	}
	var locked *store.LockedError
	if errors.As(err, &locked) {
		if client, ok := dialDaemon(c.Context, locked.Repo); ok {
			return client, nil
		}
	}
	return nil, err
}
