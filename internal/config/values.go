package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The typed readers below check one decoded TOML value against the type a
// key wants. On a mismatch they record an Error for the key and report false;
// the caller then keeps the default.

func (d *decoder) str(p keyPath, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.errorf(p, "expected a string, got %s", describe(v))
	}
	return s, ok
}

func (d *decoder) boolean(p keyPath, v any) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		d.errorf(p, "expected a boolean, got %s", describe(v))
	}
	return b, ok
}

func (d *decoder) integer(p keyPath, v any) (int64, bool) {
	n, ok := v.(int64)
	if !ok {
		d.errorf(p, "expected an integer, got %s", describe(v))
	}
	return n, ok
}

func (d *decoder) tableValue(p keyPath, v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.errorf(p, "expected a table, got %s", describe(v))
	}
	return m, ok
}

// list returns the elements of an array value.
func (d *decoder) list(p keyPath, v any, want string) ([]any, bool) {
	switch v := v.(type) {
	case []any:
		return v, true
	case []map[string]any:
		d.errorf(p, "expected %s, got an array of tables", want)
	default:
		d.errorf(p, "expected %s, got %s", want, describe(v))
	}
	return nil, false
}

// enum reads a string that must be one of allowed; what names it in messages.
func (d *decoder) enum(p keyPath, v any, what string, allowed ...string) (string, bool) {
	s, ok := d.str(p, v)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if s == a {
			return s, true
		}
	}
	d.errorf(p, "unknown %s %q (want %s)", what, s, orList(allowed))
	return "", false
}

// duration reads a duration written as a string, like "5s". Bare numbers are
// refused: BurntSushi/toml would read 5 as five nanoseconds.
func (d *decoder) duration(p keyPath, v any) (time.Duration, bool) {
	switch v := v.(type) {
	case string:
		dur, err := time.ParseDuration(v)
		if err != nil {
			d.errorf(p, `invalid duration %q (write e.g. "5s", "250ms" or "1m30s")`, v)
			return 0, false
		}
		if dur < 0 {
			d.errorf(p, "negative duration %q", v)
			return 0, false
		}
		return dur, true
	case int64:
		if v < 0 {
			d.errorf(p, `bare number %d is not a duration; write a string such as "5s"`, v)
		} else {
			d.errorf(p, `bare number %d is not a duration; write "%ds"`, v, v)
		}
	case float64:
		if v >= 0 && v < 1e9 {
			n := strconv.FormatFloat(v, 'f', -1, 64)
			d.errorf(p, `bare number %s is not a duration; write "%ss"`, n, n)
		} else {
			d.errorf(p, `bare number %v is not a duration; write a string such as "5s"`, v)
		}
	default:
		d.errorf(p, `expected a duration string such as "5s", got %s`, describe(v))
	}
	return 0, false
}

// sizeUnits are the units of a size, in bytes.
var sizeUnits = []struct {
	name string
	n    int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// size reads a byte size written as a string: a number and a binary unit,
// like "64MiB" or "1.5GiB" ("0" alone is allowed). Bare numbers are refused,
// as for durations.
func (d *decoder) size(p keyPath, v any) (int64, bool) {
	const hint = `write e.g. "64MiB", "512KiB" or "2GiB"`
	switch v := v.(type) {
	case string:
		if v == "0" {
			return 0, true
		}
		for _, u := range sizeUnits {
			num, ok := strings.CutSuffix(v, u.name)
			if !ok {
				continue
			}
			f, err := strconv.ParseFloat(num, 64)
			if err != nil || num == "" || num[0] < '0' || num[0] > '9' || math.IsInf(f, 0) {
				break
			}
			if f*float64(u.n) >= math.MaxInt64 {
				d.errorf(p, "size %q is too large", v)
				return 0, false
			}
			return int64(f * float64(u.n)), true
		}
		d.errorf(p, "invalid size %q (%s; units are B, KiB, MiB, GiB and TiB)", v, hint)
	case int64, float64:
		d.errorf(p, "bare number %v is not a size; %s", v, hint)
	default:
		d.errorf(p, `expected a size string such as "64MiB", got %s`, describe(v))
	}
	return 0, false
}

// formatSize writes n bytes with the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range sizeUnits {
		if n != 0 && n%u.n == 0 {
			return strconv.FormatInt(n/u.n, 10) + u.name
		}
	}
	return "0B"
}

// describe names a decoded TOML value's type, with the value for scalars.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		const limit = 40
		if len(v) > limit {
			return fmt.Sprintf("string %q...", v[:limit])
		}
		return fmt.Sprintf("string %q", v)
	case bool:
		return fmt.Sprintf("boolean %t", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Sprintf("float %v", v)
		}
		return "float " + strconv.FormatFloat(v, 'g', -1, 64)
	case time.Time:
		return "datetime " + timeString(v)
	case []any:
		return "array"
	case []map[string]any:
		return "array of tables"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", v)
}

// orList renders ["a", "b", "c"] as `"a", "b" or "c"`.
func orList(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = strconv.Quote(w)
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}
