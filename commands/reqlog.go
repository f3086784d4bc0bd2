package commands

import "context"

// A request's own lines (waiting for an image, a stall, a --peer that
// does not answer) belong to whoever made the request. Without a daemon
// that is this process, and the backend's logf prints them; through a
// daemon the API handler puts a logger in the request's context that
// sends them back to the client (api_log.go), so they do not land on the
// daemon's stderr. Lines about the node itself stay on the backend's logf.

type logfKey struct{}

// withLogf returns ctx carrying logf for the request's lines.
func withLogf(ctx context.Context, logf func(string, ...any)) context.Context {
	return context.WithValue(ctx, logfKey{}, logf)
}

// logfFrom is the request's logger, or fallback when it has none.
func logfFrom(ctx context.Context, fallback func(string, ...any)) func(string, ...any) {
	if f, ok := ctx.Value(logfKey{}).(func(string, ...any)); ok {
		return f
	}
	if fallback == nil {
		return func(string, ...any) {}
	}
	return fallback
}
