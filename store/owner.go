package store

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// checkOwner refuses a repo directory that belongs to another user. The
// files this process would add (badger's next table and value-log file,
// say) would be its own, and the repo would stop opening for its owner:
// `sudo imgp2p push` on a user's repo left root's 0644 tables in it that
// the user's badger could not open. A daemon the owner runs can still be
// used by root through its socket: that path never opens the repo.
func checkOwner(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("open repo %s: %w", dir, err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return fmt.Errorf("repo %s belongs to %s, not to %s running this: run imgp2p as its owner (files this user wrote into it would stop it opening for its owner)",
			dir, userName(st.Uid), userName(uint32(euid)))
	}
	return nil
}

// userName is "uid N (name)", or "uid N" when the name is unknown.
func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return fmt.Sprintf("uid %s (%s)", id, u.Username)
	}
	return "uid " + id
}
