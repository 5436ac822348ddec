package pebble

import (
	"context"
	"fmt"
	"log/slog"
)

// logger passes Pebble's messages to a slog.Logger: Infof, routine events
// such as recovering the WAL, at Debug level; Errorf at Error level.
//
// Pebble calls Fatalf when it must not go on, for instance after a failed
// write to its WAL, and expects it not to return: logger logs the message
// and panics.
type logger struct{ l *slog.Logger }

func newLogger(l *slog.Logger) logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return logger{l.With("storage", "pebble")}
}

func (l logger) Infof(format string, args ...any) {
	if l.l.Enabled(context.Background(), slog.LevelDebug) {
		l.l.Debug(fmt.Sprintf(format, args...))
	}
}

func (l logger) Errorf(format string, args ...any) {
	l.l.Error(fmt.Sprintf(format, args...))
}

func (l logger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	l.l.Error(msg, "fatal", true)
	panic("pebble: " + msg)
}
