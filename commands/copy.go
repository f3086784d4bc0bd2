package commands

import (
	"fmt"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"
)

// dockerScheme marks a registry reference where a command also takes
// paths or CIDs, as skopeo's docker:// transport does.
const dockerScheme = "docker://"

// defaultTimeout bounds how long copy waits to find an image on peers.
const defaultTimeout = 5 * time.Minute

// argsError reports a wrong number of arguments. urfave/cli reads flags
// only before the first argument, so `pull CID -o app.tar`, which the
// parsers of docker, skopeo and crane accept, leaves "-o" among the
// arguments: say so, rather than a bare count the user thinks they met.
func argsError(c *cli.Context, msg string) error {
	for _, a := range c.Args().Slice() {
		if len(a) > 1 && strings.HasPrefix(a, "-") {
			return fmt.Errorf("%s: %q follows an argument, where it is not read as a flag; put flags first (%s %s [flags] %s)",
				msg, a, c.App.Name, c.Command.Name, c.Command.ArgsUsage)
		}
	}
	return fmt.Errorf("%s", msg)
}

// registryRef returns the reference in a docker://HOST/REPO:TAG argument.
func registryRef(arg string) (string, bool) {
	ref, ok := strings.CutPrefix(arg, dockerScheme)
	return ref, ok && ref != ""
}

func insecureFlag() cli.Flag {
	return &cli.BoolFlag{Name: "insecure", Usage: "allow a registry on plain HTTP or with a TLS certificate that does not verify"}
}

func copyCommand() *cli.Command {
	return &cli.Command{
		Name:      "copy",
		Usage:     "push an image from the repo or from peers to a registry",
		ArgsUsage: "CID|NAME docker://HOST/REPO:TAG",
		Description: `CID may be written bafy…, ipfs://bafy… or /ipfs/bafy…; NAME is the name of an image
in the repo (imgp2p ls). Blocks the repo lacks come from peers, as for pull.
Manifests and indexes go up byte for byte, so the registry serves the same digests
the image has. A multi-platform image goes up as its index; an image whose
index.json lists several images goes up as that index. Credentials come from the
docker config (docker login); through a daemon, from the daemon's.
Prints HOST/REPO@DIGEST, and nothing else, on stdout.

   imgp2p copy CID docker://registry.example.com/app:v1
   imgp2p copy --insecure CID docker://127.0.0.1:5000/app:v1
   imgp2p copy --platform linux/arm64 CID docker://registry.example.com/app:v1-arm64`,
		Flags: append([]cli.Flag{
			insecureFlag(),
			&cli.StringFlag{Name: "platform", Usage: "push only the image for `OS/ARCH[/VARIANT]`"},
			&cli.StringSliceFlag{Name: "peer", Usage: "dial this peer `MULTIADDR` (ending in /p2p/ID) for blocks (repeatable)"},
			&cli.DurationFlag{Name: "timeout", Value: defaultTimeout, Usage: "give up if the image cannot be found, or the registry answers nothing, for this long"},
		}, networkFlags()...),
		Action: func(c *cli.Context) error { boundMemory(); return runCopy(c) },
	}
}

func runCopy(c *cli.Context) error {
	if c.NArg() != 2 {
		return argsError(c, "copy takes a CID (or image name) and a destination docker://HOST/REPO:TAG")
	}
	ref, ok := registryRef(c.Args().Get(1))
	if !ok {
		return fmt.Errorf("copy: destination %q must be docker://HOST/REPO:TAG", c.Args().Get(1))
	}
	timeout, err := timeoutFlag(c)
	if err != nil {
		return err
	}
	req := copyRequest{
		Root:     c.Args().First(),
		Ref:      ref,
		Insecure: c.Bool("insecure"),
		Platform: c.String("platform"),
		Peers:    c.StringSlice("peer"),
		Timeout:  timeout,
		Offline:  c.Bool("offline"),
	}
	b, err := openBackend(c)
	if err != nil {
		return err
	}
	defer b.Close()
	res, err := b.Copy(c.Context, req)
	if err != nil {
		return err
	}
	s := res.Summary
	fmt.Fprintf(c.App.ErrWriter, "copied %s (%s) to %s: fetched %d blocks (%s) from peers, %d blocks already local, in %s\n",
		req.Root, humanize.IBytes(uint64(s.Size)), ref, s.FetchedBlocks, humanize.IBytes(uint64(s.FetchedBytes)),
		s.LocalBlocks, s.Elapsed.Round(time.Millisecond))
	_, err = fmt.Fprintf(c.App.Writer, "%s@%s\n", repository(ref), res.Digest)
	return err
}

// repository strips the tag or digest from a reference as written.
func repository(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}
