package commands

import (
	"archive/tar"
	"io"
	"os"
	"path"
	"strings"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// Progress bars use vbauerster/mpb: maintained, renders several bars at
// once (one per blob) without flicker, and leaves nothing behind on a
// non-terminal because we only create it for one.

// showProgress says whether bars belong on stderr: only on a terminal,
// and not with --quiet.
func showProgress(quiet bool) bool {
	return !quiet && term.IsTerminal(int(os.Stderr.Fd()))
}

// minBarSize keeps manifests and configs, which finish at once, off the
// screen.
const minBarSize = 256 << 10

// tarProgress shows one bar per blob of a tar stream as it passes by. It
// reads the stream's own headers, so it works the same whether the tar is
// made here or comes from the daemon.
type tarProgress struct {
	pw   *io.PipeWriter
	done chan struct{}
	bars *mpb.Progress
}

func newTarProgress(out io.Writer) *tarProgress {
	pr, pw := io.Pipe()
	t := &tarProgress{pw: pw, done: make(chan struct{}), bars: mpb.New(mpb.WithOutput(out), mpb.WithWidth(32))}
	go func() {
		defer close(t.done)
		t.follow(pr)
		// Whatever happens above, never block the data's writer.
		io.Copy(io.Discard, pr)
	}()
	return t
}

func (t *tarProgress) follow(r io.Reader) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return
		}
		if hdr.Size < minBarSize {
			continue
		}
		bar := t.bars.AddBar(hdr.Size,
			mpb.PrependDecorators(decor.Name(blobLabel(hdr.Name), decor.WC{W: 14, C: decor.DindentRight})),
			mpb.AppendDecorators(
				decor.CountersKibiByte("% .1f / % .1f", decor.WC{W: 22}),
				decor.AverageSpeed(decor.SizeB1024(0), "  % .1f", decor.WC{W: 14}),
			))
		w, _ := bar.ProxyWriter(io.Discard)
		_, err = io.Copy(w, tr)
		w.Close()
		if err != nil {
			bar.Abort(false)
			return
		}
	}
}

// blobLabel shortens a blob's file name to its digest's first hex digits.
func blobLabel(name string) string {
	base := strings.TrimPrefix(path.Base(name), "sha256:")
	if i := strings.IndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if len(base) > 12 {
		base = base[:12]
	}
	return base
}

func (t *tarProgress) Write(p []byte) (int, error) { return t.pw.Write(p) }

// finish ends the display; bars of an aborted stream stop where they are.
func (t *tarProgress) finish() {
	t.pw.Close()
	<-t.done
	t.bars.Shutdown()
}
