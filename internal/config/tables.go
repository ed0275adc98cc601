package config

import (
	"fmt"
	"time"
)

// Table returns the [config.NAME] table for the script or pack name, or nil
// when the file has none. The map is the Config's own; do not modify it.
func (c *Config) Table(name string) map[string]any {
	if c == nil {
		return nil
	}
	return c.Tables[name]
}

// tables reads [config]: every key must be a table, kept as plain values.
func (d *decoder) tables(p keyPath, m map[string]any) {
	for _, name := range sortedKeys(m) {
		q := p.child(name)
		t, ok := m[name].(map[string]any)
		if !ok {
			d.errorf(q, "expected a table [%s] of settings for the script or pack %q, got %s", q, name, describe(m[name]))
			continue
		}
		d.cfg.Tables[name] = plainTable(t)
	}
}

// plainTable copies a decoded TOML table, turning datetimes into RFC 3339
// strings and arrays of tables into []any, so that only bool, int64,
// float64, string, []any and map[string]any remain.
func plainTable(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = plainValue(v)
	}
	return out
}

func plainValue(v any) any {
	switch v := v.(type) {
	case bool, int64, float64, string:
		return v
	case time.Time:
		return timeString(v)
	case map[string]any:
		return plainTable(v)
	case []map[string]any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plainTable(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plainValue(e)
		}
		return out
	}
	return fmt.Sprint(v) // not produced by the TOML decoder; never nil
}

// timeString formats a TOML datetime in RFC 3339 form. Local dates, times
// and datetimes (no offset in the file) are written without an offset.
func timeString(t time.Time) string {
	switch t.Location().String() {
	case "date-local":
		return t.Format(time.DateOnly)
	case "time-local":
		return t.Format("15:04:05.999999999")
	case "datetime-local":
		return t.Format("2006-01-02T15:04:05.999999999")
	}
	return t.Format(time.RFC3339Nano)
}
