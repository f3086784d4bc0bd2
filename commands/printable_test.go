package commands

import (
	"errors"
	"testing"
)

func TestErrorTextEscapesAllButJoinedLines(t *testing.T) {
	err := errors.Join(errors.New("no image for platform linux/\x1b[2Jamd64\r"), errors.New("second\tone"))
	want := `no image for platform linux/\x1b[2Jamd64\r` + "\n" + `second\tone`
	if got := ErrorText(err); got != want {
		t.Errorf("ErrorText = %q, want %q", got, want)
	}
	if got := ErrorText(errors.New("plain: fine")); got != "plain: fine" {
		t.Errorf("a plain message changed: %q", got)
	}
}
