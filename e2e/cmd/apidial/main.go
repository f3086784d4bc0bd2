// Command apidial connects to an imgp2p daemon's API socket and asks it for
// GET /id, so that tests can try the socket as another user:
//
//	setpriv --reuid=nobody --regid=nogroup --clear-groups apidial REPO/api.sock
//
// It prints what happened on one line and exits with
//
//	0  the daemon answered (the body follows on stdout)
//	3  connect was refused for lack of permission (EACCES or EPERM)
//	4  connect failed otherwise
//	5  connected, but no HTTP answer came (the daemon hung up)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: apidial SOCKET")
		os.Exit(2)
	}
	path := os.Args[1]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		fmt.Printf("connect: %v\n", err)
		if errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) {
			os.Exit(3)
		}
		os.Exit(4)
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil },
	}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://imgp2p/id", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Printf("connected, no answer: %v\n", err)
		os.Exit(5)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Printf("answered %s\n%s\n", resp.Status, body)
}
