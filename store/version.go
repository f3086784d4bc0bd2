package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// versionFile names the repo's format, as Kubo's repo does: what is kept
// in datastore/ and how (badger's own format, the keys of pins, images
// and records). A later imgp2p that changes it migrates a repo of an
// older format; an older imgp2p refuses a newer one before badger opens
// it, rather than misreading or rewriting it.
const versionFile = "version"

// RepoVersion is the format this imgp2p reads and writes (`imgp2p version`
// prints it). Repos made before the file existed are format 1. Format 2
// keeps large blocks in packs under blocks/ (packBlocks); it reads a
// format-1 repo's large blocks where they are, in badger, so opening one
// only records the new number, which keeps an older imgp2p, blind to the
// packs, from using the repo.
const RepoVersion = 2

// checkVersion refuses a repo of a format this imgp2p does not know, and
// records the format in one that has none yet (new, or made before the
// file existed). The owner's lock must be held.
func checkVersion(dir string) error {
	path := filepath.Join(dir, versionFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := writeFileAtomic(path, []byte(strconv.Itoa(RepoVersion)+"\n"), 0o600); err != nil {
			return fmt.Errorf("record repo format in %s: %w", path, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read repo format: %w", err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || v < 1 {
		return fmt.Errorf("repo %s: %s holds %q, not a repo format number; if the repo is imgp2p's, write %d in it", dir, path, strings.TrimSpace(string(raw)), RepoVersion)
	}
	if v > RepoVersion {
		return fmt.Errorf("repo %s is format %d, made by a newer imgp2p; this one reads format %d: use a newer imgp2p (the repo is untouched)", dir, v, RepoVersion)
	}
	if v < RepoVersion {
		if err := writeFileAtomic(path, []byte(strconv.Itoa(RepoVersion)+"\n"), 0o600); err != nil {
			return fmt.Errorf("record repo format in %s: %w", path, err)
		}
	}
	return nil
}
