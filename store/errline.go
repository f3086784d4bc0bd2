package store

import "strings"

// firstLineError shows only the first line of err. badger formats the
// errors it wraps with %+v, so a failure to open one of its files (a
// permission, a directory in a file's place) comes with the Go stack
// trace of where the file was opened: some 30 lines after the one a user
// needs. The whole error stays reachable through Unwrap.
type firstLineError struct{ err error }

func (e firstLineError) Error() string {
	msg, _, _ := strings.Cut(e.err.Error(), "\n")
	return msg
}

func (e firstLineError) Unwrap() error { return e.err }
