package commands

import (
	"fmt"
	"io"
	"os"
	"time"

	"sort"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

const (
	formatDocker     = "docker"
	formatOCI        = "oci"
	formatOCIArchive = "oci-archive"
)

func pullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "write an image from the repo or from peers as a docker-archive or OCI layout",
		ArgsUsage: "CID|NAME",
		Description: `CID may be written bafy…, ipfs://bafy… or /ipfs/bafy…; NAME is the name of an image
in the repo (imgp2p ls; :latest when no tag is given). Blocks come from the repo
when it has them (then no network is opened at all) and from peers otherwise;
every blob is checked against its digest as it streams. Fetched blocks stay in
the repo. A one-line summary goes to stderr.

   imgp2p pull CID | docker load
   imgp2p pull imgp2p-test/hello:v1 | podman load
   imgp2p pull --peer /ip4/192.168.1.7/tcp/4001/p2p/12D3… CID > app.tar
   imgp2p pull --format oci -o ./app-layout CID
   imgp2p pull --platform linux/arm64 --tag app:arm64 -o app-arm64.tar CID`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Value: formatDocker, Usage: "docker (a docker-archive for docker/podman load), oci (a layout directory, needs -o) or oci-archive"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to `PATH` instead of stdout (written under a temporary name, renamed when complete)"},
			&cli.StringFlag{Name: "platform", Usage: "`OS/ARCH[/VARIANT]` to write (docker format defaults to the host's; oci keeps all)"},
			&cli.StringSliceFlag{Name: "tag", Usage: "name the image `NAME:TAG` in a docker-archive (repeatable)"},
			&cli.StringSliceFlag{Name: "peer", Usage: "dial this peer `MULTIADDR` (ending in /p2p/ID) for blocks (repeatable)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print nothing but errors on stderr (no progress, no summary)"},
			&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, Usage: "give up if the image cannot be found, or no data arrives, for this long"},
		}, networkFlags()...),
		Action: func(c *cli.Context) error { boundMemory(); return runPull(c) },
	}
}

func runPull(c *cli.Context) error {
	if c.NArg() != 1 {
		return argsError(c, "pull takes one CID or image name")
	}
	timeout, err := timeoutFlag(c)
	if err != nil {
		return err
	}
	format, output := c.String("format"), c.String("output")
	req := pullRequest{
		Root:     c.Args().First(),
		Format:   format,
		Platform: c.String("platform"),
		Tags:     c.StringSlice("tag"),
		Peers:    c.StringSlice("peer"),
		Timeout:  timeout,
		Offline:  c.Bool("offline"),
	}
	switch format {
	case formatDocker, formatOCIArchive:
	case formatOCI:
		if output == "" {
			return fmt.Errorf("--format oci writes a directory: give it with -o DIR")
		}
		req.Format = formatOCIArchive
	default:
		return fmt.Errorf("unknown --format %q: want docker, oci or oci-archive", format)
	}
	// After the format is known good: a mistyped one is what to report.
	if len(req.Tags) > 0 && format != formatDocker {
		// The layout is the image's DAG as pushed: a name written into its
		// index.json would make a push of the file give another CID.
		return fmt.Errorf("--tag names images in a docker-archive; --format %s keeps the names the image was pushed with (org.opencontainers.image.ref.name), so that pushing it again gives the same CID", format)
	}
	if output == "" && term.IsTerminal(int(os.Stdout.Fd())) {
		return fmt.Errorf("refusing to write a tar to a terminal: pipe it (imgp2p pull CID | docker load) or use -o FILE")
	}
	if output != "" {
		if err := checkOutput(output, format, repoPath(c)); err != nil {
			return err
		}
	}
	b, err := openBackend(c)
	if err != nil {
		return err
	}
	defer b.Close()
	sink, err := openSink(output, format, c.App.Writer)
	if err != nil {
		return err
	}
	var out io.Writer = sink
	var bars *tarProgress
	if showProgress(c.Bool("quiet")) {
		bars = newTarProgress(c.App.ErrWriter)
		out = io.MultiWriter(sink, bars)
	}
	sum, err := b.Pull(c.Context, req, out)
	if bars != nil {
		bars.finish()
	}
	if err != nil {
		sink.abort()
		return err
	}
	if err := sink.commit(); err != nil {
		return err
	}
	if !c.Bool("quiet") {
		fmt.Fprintln(c.App.ErrWriter, formatSummary(req.Root, sum))
	}
	return nil
}

func formatSummary(root string, s pullSummary) string {
	peers := ""
	if n := len(s.PeerBytes); n > 0 {
		var each []string
		for id, b := range s.PeerBytes {
			each = append(each, fmt.Sprintf("%s %s", shortPeer(id), humanize.IBytes(uint64(b))))
		}
		sort.Strings(each)
		peers = fmt.Sprintf(" from %d peer(s) [%s]", n, strings.Join(each, ", "))
	}
	return fmt.Sprintf("pulled %s (%s): fetched %d blocks (%s)%s, %d blocks (%s) already local, in %s",
		root, humanize.IBytes(uint64(s.Size)),
		s.FetchedBlocks, humanize.IBytes(uint64(s.FetchedBytes)), peers,
		s.LocalBlocks, humanize.IBytes(uint64(s.LocalBytes)),
		s.Elapsed.Round(time.Millisecond))
}

// shortPeer abbreviates a peer ID the way Kubo's logs do: enough to tell
// peers apart.
func shortPeer(id string) string {
	if len(id) <= 12 {
		return id
	}
	return "…" + id[len(id)-8:]
}
