// Package logging defines agentd's log levels (the syslog levels scripts
// know from OSE, mapped onto log/slog) and builds the process logger.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Levels, from least to most severe. Debug, Info, Warning and Error are
// slog's own levels; the others sit between and above them.
const (
	LevelDebug     = slog.LevelDebug
	LevelInfo      = slog.LevelInfo
	LevelNotice    = slog.Level(2)
	LevelWarning   = slog.LevelWarn
	LevelError     = slog.LevelError
	LevelCritical  = slog.Level(12)
	LevelAlert     = slog.Level(16)
	LevelEmergency = slog.Level(20)
)

var names = []struct {
	level slog.Level
	name  string
}{
	{LevelDebug, "debug"}, {LevelInfo, "info"}, {LevelNotice, "notice"}, {LevelWarning, "warning"},
	{LevelError, "error"}, {LevelCritical, "critical"}, {LevelAlert, "alert"}, {LevelEmergency, "emergency"},
}

// ParseLevel returns the level called name ("debug" … "emergency").
func ParseLevel(name string) (slog.Level, error) {
	for _, n := range names {
		if n.name == name {
			return n.level, nil
		}
	}
	return 0, fmt.Errorf("logging: unknown level %q", name)
}

// LevelName returns the name of a level; levels between the named ones
// take the name of the next lower one.
func LevelName(l slog.Level) string {
	name := names[0].name
	for _, n := range names {
		if l >= n.level {
			name = n.name
		}
	}
	return name
}

// FromOSE maps OSE's numeric levels (LOG_EMERGENCY = 0 … LOG_DEBUG = 7) to slog levels.
func FromOSE(n int) slog.Level {
	switch {
	case n <= 0:
		return LevelEmergency
	case n >= 7:
		return LevelDebug
	}
	return []slog.Level{LevelEmergency, LevelAlert, LevelCritical, LevelError, LevelWarning, LevelNotice, LevelInfo}[n]
}

// New returns a logger writing to w in format "text" or "json" at level
// and above, with agentd's level names.
func New(w io.Writer, format string, level slog.Leveler) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: replaceLevel}
	if strings.EqualFold(format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func replaceLevel(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.LevelKey {
		if l, ok := a.Value.Any().(slog.Level); ok {
			a.Value = slog.StringValue(LevelName(l))
		}
	}
	return a
}

// Discard is a logger that drops everything.
func Discard() *slog.Logger { return slog.New(discard{}) }

type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return false }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }
