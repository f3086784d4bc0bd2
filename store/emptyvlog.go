package store

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// removeEmptyValueLogs deletes value-log files of zero bytes in a badger
// directory before badger opens it. badger creates each value-log file and
// then sizes it; a process killed in between (SIGKILL, power loss) leaves
// an empty file, and badger then refuses to open the directory at all
// ("Open existing file: ... Create a new file"). A pull killed while
// badger moved to its next 64 MiB file hit exactly that. An empty file
// holds no entry, so nothing can point into it: badger simply creates the
// file again when it needs it.
func removeEmptyValueLogs(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".vlog") || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() != 0 {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("remove the empty value-log file a crash left: %w", err)
		}
	}
	return nil
}
