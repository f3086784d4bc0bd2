package commands

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "store an image in the repo and print its CID",
		ArgsUsage: "SRC",
		Description: `SRC is an OCI image layout directory, a docker-archive tar (docker save), an
oci-archive tar, - for either tar on stdin, or docker://HOST/REPO:TAG (or @DIGEST)
for an image or index in a registry, streamed straight into the repo and named by
the reference as written; credentials come from the docker config (docker login),
through a daemon from the daemon's user's.
Every blob is checked against its digest; layers and manifests are stored as they
are, so image digests and IDs do not change. The image is pinned. Prints the root
CID, and nothing else, on stdout.

   imgp2p push ./hello-layout
   docker save app:v1 | imgp2p push -
   imgp2p push docker://registry.example.com/app:v1
   imgp2p push --platform linux/arm64 ./multi-arch-layout`,
		Flags: append([]cli.Flag{
			insecureFlag(),
			&cli.StringFlag{Name: "format", Value: "native", Usage: "native (imgp2p's layout DAG) or nerdctl (nerdctl's ipfs:// format: manifest digests change)"},
			&cli.StringFlag{Name: "platform", Usage: "keep only the images for `OS/ARCH[/VARIANT]` of a multi-platform source"},
			&cli.DurationFlag{Name: "timeout", Value: defaultTimeout, Usage: "with docker://SRC, give up if the registry answers nothing for this long"},
		}, hiddenFlags(networkFlags())...),
		Action: func(c *cli.Context) error {
			boundMemory()
			if c.NArg() != 1 {
				return argsError(c, "push takes one SRC (a layout directory, an archive, or - for stdin)")
			}
			src := c.Args().First()
			timeout, err := timeoutFlag(c)
			if err != nil {
				return err
			}
			req := pushRequest{Platform: c.String("platform"), Insecure: c.Bool("insecure"), Timeout: timeout, Format: c.String("format")}
			if req.Format != "native" && req.Format != "nerdctl" {
				return fmt.Errorf("unknown --format %q: want native or nerdctl", req.Format)
			}
			var body *os.File
			if ref, ok := registryRef(src); ok {
				req.Remote = ref
			} else if src == "-" {
				if term.IsTerminal(int(os.Stdin.Fd())) {
					return fmt.Errorf("push - reads an archive from stdin, which is a terminal: pipe one in (docker save app | imgp2p push -)")
				}
				body = os.Stdin
			} else {
				abs, err := filepath.Abs(src)
				if err != nil {
					return err
				}
				if _, err := os.Stat(abs); err != nil {
					return fmt.Errorf("push: %w%s", err, imageRefHint(src, err))
				}
				req.Path = abs
			}
			b, err := openBackend(c)
			if err != nil {
				return err
			}
			defer b.Close()
			res, err := b.Push(c.Context, req, body)
			if err != nil {
				return fmt.Errorf("push %s: %w", src, err)
			}
			_, err = fmt.Fprintln(c.App.Writer, res.Root)
			return err
		},
	}
}

// imageRefHint is said when SRC is no file but reads as an image
// reference: docker, crane and skopeo users write `push app:v1` or
// `push registry.local/app:v1` and got only "no such file or directory".
func imageRefHint(src string, err error) string {
	// A tag or digest makes it a reference; app.tar alone is a missing file.
	if !errors.Is(err, fs.ErrNotExist) || !strings.ContainsAny(src, ":@") || strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
		return ""
	}
	if _, perr := name.ParseReference(src); perr != nil {
		return ""
	}
	return fmt.Sprintf(" (an image in a registry is docker://%s; one in docker, docker save %s | imgp2p push -)", src, src)
}
