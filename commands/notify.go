package commands

import (
	"fmt"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// notifyService tells the service manager (systemd, for a Type=notify
// unit) how the daemon is doing: READY=1 once its API socket, listeners
// and gateway are up, so `systemctl start` returns, and units ordered
// after it start, only when a pull through it can work; STOPPING=1 as it
// shuts down. Without $NOTIFY_SOCKET it does nothing.
func notifyService(logf func(string, ...any), states ...string) {
	msg := ""
	for _, s := range states {
		msg += s + "\n"
	}
	if _, err := sd.SdNotify(false, msg); err != nil {
		logf("could not tell the service manager %q: %v", states[0], err)
	}
}

// readyStatus is the STATUS= line a service manager shows for a ready
// daemon (`systemctl status`).
func readyStatus(mode, id string) string {
	return fmt.Sprintf("STATUS=ready (%s), peer ID %s", mode, id)
}
