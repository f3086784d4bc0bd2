package store

import (
	"time"

	"github.com/dgraph-io/badger/v4/options"
	badgerds "github.com/ipfs/go-ds-badger4"
)

// valueThreshold is the size from which badger keeps a value in its value
// log rather than inside its tables.
const valueThreshold = 4 << 10

// badgerOptions sizes badger for a small machine. It holds the blocks
// under 128 KiB and the packs' index; a format-1 repo, 1 MiB blocks too.
// badger's defaults are for servers: 5×64 MiB memtables, a 256 MiB block
// cache and a 1 MiB value threshold that keeps whole blocks inside the LSM
// tree, where every compaction rewrites them. Measured for 400×1 MiB values:
// 86 MiB heap with defaults, 22 MiB with these.
func badgerOptions() *badgerds.Options {
	opts := badgerds.DefaultOptions
	opts.Options = opts.Options.
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		// Must stay ≤ 15% of MemTableSize or Open fails.
		WithValueThreshold(valueThreshold).
		// Layers are already compressed; compressing again only burns CPU.
		WithCompression(options.None).
		WithBlockCacheSize(0).
		WithIndexCacheSize(16 << 20).
		WithNumCompactors(2).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(8).
		// Smaller value-log files let GC give space back sooner, but
		// badger syncs each file as it starts the next: at 32 MiB a 1 GiB
		// push took 3.86 s against 2.43 s at 64 MiB.
		WithValueLogFileSize(64 << 20).
		WithMetricsEnabled(false).
		// Check each value-log entry's CRC32C and each table block's
		// checksum on every read: see damageCheckingBlockstore.
		WithVerifyValueChecksum(true).
		WithChecksumVerificationMode(options.OnBlockRead)
	opts.GcInterval = 15 * time.Minute
	return &opts
}
