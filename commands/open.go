package commands

import (
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/imgp2p/imgp2p/store"
)

const apiSocket = "api.sock"

// lockGrace is how long a command retries a repo held by another one-shot
// command: two commands started together should not fail for that, and a
// repo held for longer is reported well within a second.
const lockGrace = time.Second

// openBackend opens the repo for this command alone or, when a daemon owns
// it, connects to that daemon. A repo owned by anything else is an error
// that names the owner.
func openBackend(c *cli.Context) (backend, error) {
	path := repoPath(c)
	deadline := time.Now().Add(lockGrace)
	for {
		repo, err := store.Open(c.Context, path)
		if err == nil {
			return localFor(c, repo)
		}
		var locked *store.LockedError
		if !errors.As(err, &locked) {
			return nil, err
		}
		if client, ok := dialDaemon(c.Context, locked.Repo); ok {
			client.logf = stderrLogf(c)
			return client, nil
		}
		if time.Now().After(deadline) {
			return nil, err
		}
		select {
		case <-c.Context.Done():
			return nil, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func localFor(c *cli.Context, repo *store.Repo) (backend, error) {
	// We own the repo, so a socket left in it is from a dead daemon.
	_ = os.Remove(filepath.Join(repo.Path, apiSocket))
	opts, err := nodeOptions(c, repo)
	if err != nil {
		repo.Close()
		return nil, err
	}
	return newLocalBackend(repo, nil, opts), nil
}
