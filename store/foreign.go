package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// repoEntries are the names a repo may hold before it has an identity:
// what Open creates, what a user may put there first (swarm.key, an
// edited config.json), and a filesystem's own lost+found when the repo
// is a mount point. api.sock is the daemon's socket (commands/open.go).
var repoEntries = map[string]bool{
	lockFile: true, versionFile: true, identityFile: true, configFile: true, "datastore": true, "blocks": true,
	"api.sock": true, "swarm.key": true, "lost+found": true,
}

// checkNotForeign refuses to make a repo of a directory that already
// holds something else: a mistyped --repo (a project directory, $HOME, a
// Kubo repo, whose leveldb datastore/ badger would write into) would
// otherwise get a repo's files mixed into it, and commands would succeed
// on a new, empty repo. A directory with an identity is a repo already.
func checkNotForeign(dir string) error {
	if _, err := os.Lstat(filepath.Join(dir, identityFile)); err == nil {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open repo %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if repoEntries[name] || isAtomicTemp(name) {
			continue
		}
		return fmt.Errorf("%s is not an imgp2p repo: it already holds %q, which imgp2p did not put there; give --repo (or $%s) a new or empty directory", dir, name, EnvPath)
	}
	return nil
}

// isAtomicTemp reports a temp file writeFileAtomic leaves when killed.
func isAtomicTemp(name string) bool {
	for _, f := range []string{configFile, identityFile, versionFile} {
		if strings.HasPrefix(name, "."+f+".tmp") {
			return true
		}
	}
	return false
}
