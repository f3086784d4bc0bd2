package e2e

import (
	"bufio"
	"bytes"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// startForPort starts argv (a server told to listen on port 0) and waits
// for the line on its stderr where portLine's first group is the port it
// took. The server is killed and reaped at the test's end; its stderr is
// read until then (the first 64 KiB kept for the failure message).
func startForPort(t *testing.T, name string, argv []string, portLine *regexp.Regexp) (port string, cmd *exec.Cmd) {
	t.Helper()
	cmd = exec.Command(argv[0], argv[1:]...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The reader lives as long as the server: it ends at EOF once it exits.
	found := make(chan string, 1)
	drained := make(chan struct{})
	var log bytes.Buffer
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := portLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			if log.Len() < 64<<10 {
				log.WriteString(sc.Text() + "\n")
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-drained
		cmd.Wait()
	})
	select {
	case port = <-found:
		return port, cmd
	case <-drained:
		t.Fatalf("%s exited before listening: %s", name, log.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not listening after 30s", name)
	}
	return "", nil
}
