package commands

import (
	"context"
	"io"
	"time"
)

// backend runs imgp2p's operations, either on a repo this process owns or
// through the daemon that owns it. Commands do not know which: both give
// the same results, so a command's output is the same either way.
type backend interface {
	Push(ctx context.Context, req pushRequest, body io.Reader) (pushResult, error)
	Pull(ctx context.Context, req pullRequest, w io.Writer) (pullSummary, error)
	Copy(ctx context.Context, req copyRequest) (copyResult, error)
	List(ctx context.Context) ([]imageInfo, error)
	ID(ctx context.Context) (idInfo, error)
	Pin(ctx context.Context, req pinRequest) ([]pinInfo, error)
	Peers(ctx context.Context) ([]peerInfo, error)
	Providers(ctx context.Context, req providersRequest) ([]peerInfo, error)
	GC(ctx context.Context) (gcResult, error)
	Verify(ctx context.Context, req verifyRequest) (verifyResult, error)
	Close() error
}

type pushRequest struct {
	// Path is an absolute path to a layout directory or archive; empty
	// when the archive comes as the body.
	Path string `json:"path,omitempty"`
	// Remote is a registry reference (HOST/REPO:TAG, no docker://) that
	// the process running the push fetches itself.
	Remote   string `json:"remote,omitempty"`
	Insecure bool   `json:"insecure,omitempty"`
	// Timeout ends a fetch from Remote that the registry stalls this long.
	Timeout  time.Duration `json:"timeout,omitempty"`
	Platform string        `json:"platform,omitempty"`
	// Format is native or nerdctl.
	Format string `json:"format,omitempty"`
}

type pushResult struct {
	Root      string   `json:"root"`
	Names     []string `json:"names,omitempty"`
	Platforms []string `json:"platforms,omitempty"`
	Size      int64    `json:"size"`
}

type pullRequest struct {
	Root     string        `json:"root"`
	Format   string        `json:"format"` // docker or oci-archive: what goes on the wire
	Platform string        `json:"platform,omitempty"`
	Tags     []string      `json:"tags,omitempty"`
	Peers    []string      `json:"peers,omitempty"`
	Timeout  time.Duration `json:"timeout,omitempty"`
	Offline  bool          `json:"offline,omitempty"`
}

type pullSummary struct {
	Size          int64            `json:"size"`
	FetchedBlocks int64            `json:"fetchedBlocks"`
	FetchedBytes  int64            `json:"fetchedBytes"`
	LocalBlocks   int64            `json:"localBlocks"`
	LocalBytes    int64            `json:"localBytes"`
	PeerBytes     map[string]int64 `json:"peerBytes,omitempty"`
	Elapsed       time.Duration    `json:"elapsed"`
}

// copyRequest pushes a root to a registry; the root is found as a pull
// finds it.
type copyRequest struct {
	Root     string        `json:"root"`
	Ref      string        `json:"ref"` // HOST/REPO:TAG, no docker://
	Insecure bool          `json:"insecure,omitempty"`
	Platform string        `json:"platform,omitempty"`
	Peers    []string      `json:"peers,omitempty"`
	Timeout  time.Duration `json:"timeout,omitempty"`
	Offline  bool          `json:"offline,omitempty"`
}

type copyResult struct {
	// Digest is the manifest or index the reference now names.
	Digest  string      `json:"digest"`
	Summary pullSummary `json:"summary"`
}

type imageInfo struct {
	Root      string    `json:"root"`
	Names     []string  `json:"names"`
	Platforms []string  `json:"platforms"`
	Size      int64     `json:"size"`
	Pinned    bool      `json:"pinned"`
	Added     time.Time `json:"added"`
}

type idInfo struct {
	ID        string   `json:"ID"`
	Addresses []string `json:"Addresses"`
	Mode      string   `json:"Mode"`
	Agent     string   `json:"AgentVersion"`
}

type pinRequest struct {
	Op   string `json:"op"` // add, rm, ls
	Root string `json:"root,omitempty"`
}

type peerInfo struct {
	ID     string   `json:"ID"`
	Addrs  []string `json:"Addrs"`
	Source string   `json:"Source"`
	Agent  string   `json:"AgentVersion,omitempty"`
}

// providersRequest asks the DHT who provides Root.
type providersRequest struct {
	Root    string        `json:"root"`
	Limit   int           `json:"limit"`
	Timeout time.Duration `json:"timeout"`
}

type gcResult struct {
	Blocks    int64    `json:"blocks"`
	Bytes     int64    `json:"bytes"`
	Forgotten []string `json:"forgotten,omitempty"`
}

type verifyRequest struct {
	// Root limits the check to one image; empty checks the whole repo.
	Root string `json:"root,omitempty"`
	// Repair removes the damaged blocks found, for pulls to fetch again.
	Repair bool `json:"repair,omitempty"`
}

type verifyResult struct {
	Blocks   int64    `json:"blocks"`
	Blobs    int      `json:"blobs"`
	Problems []string `json:"problems"`
	// Removed lists the damaged blocks a repair removed.
	Removed []string `json:"removed,omitempty"`
}

type pinInfo struct {
	Root string `json:"root"`
	Name string `json:"name,omitempty"`
}
