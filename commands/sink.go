package commands

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// sink is where a pull's stream goes. Nothing appears under the output
// name until commit; abort leaves no trace.
type sink interface {
	io.Writer
	commit() error
	abort()
}

func openSink(output, format string, stdout io.Writer) (sink, error) {
	switch {
	case output == "":
		return stdoutSink{stdout}, nil
	case format == formatOCI:
		return newDirSink(output)
	default:
		return newFileSink(output)
	}
}

// checkOutput refuses an output path a pull must not replace, before any
// work: the rename that ends a pull replaces whatever has the name, so a
// device (-o /dev/null, as root), a symlink, a file where a layout goes,
// or a file of the repo itself would be lost.
func checkOutput(output, format, repo string) error {
	if inside(output, repo) {
		return fmt.Errorf("output %s is inside the repo %s", output, repo)
	}
	fi, err := os.Lstat(output)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output %s: %w", output, err)
	}
	mode := fi.Mode()
	switch {
	case format == formatOCI && mode.IsDir():
		return nil // newDirSink refuses a directory that is not empty
	case format == formatOCI:
		return fmt.Errorf("output %s exists and is not a directory (%s): --format oci writes a layout directory", output, describeMode(mode))
	case mode.IsRegular():
		return nil // replaced, as docker save -o does
	}
	return fmt.Errorf("output %s is %s, not a file: -o replaces a regular file or makes a new one", output, describeMode(mode))
}

// inside says whether path would land in dir, symlinks resolved: the
// output's directory is compared, since the output itself may not exist.
func inside(path, dir string) bool {
	real := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return r
		}
		return abs
	}
	parent, d := real(filepath.Dir(path)), real(dir)
	return parent == d || strings.HasPrefix(parent, d+string(filepath.Separator))
}

func describeMode(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symlink"
	case m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m.IsRegular():
		return "a regular file"
	}
	return "not a regular file"
}

type stdoutSink struct{ io.Writer }

func (stdoutSink) commit() error { return nil }
func (stdoutSink) abort()        {}

func (s stdoutSink) file() *os.File {
	f, _ := s.Writer.(*os.File)
	return f
}

// fileSink writes a temporary file beside the target and renames it.
type fileSink struct {
	*os.File
	target string
}

func newFileSink(target string) (*fileSink, error) {
	sweepPartials(target)
	f, err := os.CreateTemp(filepath.Dir(target), partialPattern(target))
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	return &fileSink{File: f, target: target}, nil
}

func (s *fileSink) file() *os.File { return s.File }

func (s *fileSink) commit() error {
	if err := s.Sync(); err != nil {
		s.abort()
		return err
	}
	if err := s.Close(); err != nil {
		os.Remove(s.Name())
		return err
	}
	err := os.Chmod(s.Name(), 0o644)
	if err == nil {
		err = os.Rename(s.Name(), s.target)
	}
	if err != nil {
		os.Remove(s.Name())
	}
	return err
}

func (s *fileSink) abort() {
	s.Close()
	os.Remove(s.Name())
}

// dirSink unpacks an OCI-archive stream into a temporary directory beside
// the target and renames it into place.
type dirSink struct {
	pw     *io.PipeWriter
	tmp    string
	target string
	done   chan error
}

func newDirSink(target string) (*dirSink, error) {
	if entries, err := os.ReadDir(target); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("output directory %s exists and is not empty: --format oci writes a new directory or fills an empty one", target)
	}
	sweepPartials(target)
	tmp, err := os.MkdirTemp(filepath.Dir(filepath.Clean(target)), partialPattern(target))
	if err != nil {
		return nil, fmt.Errorf("create output: %w", err)
	}
	pr, pw := io.Pipe()
	s := &dirSink{pw: pw, tmp: tmp, target: target, done: make(chan error, 1)}
	go func() {
		err := untar(pr, tmp)
		if err == nil {
			// Swallow trailing padding so the writer never sees a closed pipe.
			_, err = io.Copy(io.Discard, pr)
		}
		// On failure, the writer's next Write returns err.
		pr.CloseWithError(err)
		s.done <- err
	}()
	return s, nil
}

func (s *dirSink) Write(p []byte) (int, error) { return s.pw.Write(p) }

func (s *dirSink) commit() error {
	s.pw.Close()
	if err := <-s.done; err != nil {
		os.RemoveAll(s.tmp)
		return err
	}
	err := os.Chmod(s.tmp, 0o755)
	if err == nil {
		// An empty directory may stand where the layout goes (checkOutput
		// allowed nothing else, and Remove takes no directory with entries).
		if fi, lerr := os.Lstat(s.target); lerr == nil && fi.IsDir() {
			_ = os.Remove(s.target)
		}
		err = os.Rename(s.tmp, s.target)
	}
	if err != nil {
		os.RemoveAll(s.tmp)
	}
	return err
}

func (s *dirSink) abort() {
	s.pw.CloseWithError(errors.New("pull failed"))
	<-s.done
	os.RemoveAll(s.tmp)
}

// untar unpacks regular files and directories of r under dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := path.Clean(hdr.Name)
		if path.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("archive entry %q points outside the output", hdr.Name)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
