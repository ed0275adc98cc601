package wire

import (
	"bytes"
	"errors"
	"math"
	"runtime/metrics"
	"strings"
	"testing"
	"unsafe"
)

// same reports whether a and b are the same plain value: same types, same
// contents, floats compared bit for bit (so NaN equals itself, -0 differs
// from 0).
func same(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool, int64, string:
		return a == b
	case float64:
		f, ok := b.(float64)
		return ok && math.Float64bits(a) == math.Float64bits(f)
	case []any:
		c, ok := b.([]any)
		if !ok || len(a) != len(c) {
			return false
		}
		for i := range a {
			if !same(a[i], c[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		c, ok := b.(map[string]any)
		if !ok || len(a) != len(c) {
			return false
		}
		for k, x := range a {
			y, ok := c[k]
			if !ok || !same(x, y) {
				return false
			}
		}
		return true
	}
	return false
}

// plain turns the convenience types into what they decode as.
func plain(v any) any {
	switch v := v.(type) {
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case uint64:
		return int64(v)
	case float32:
		return float64(v)
	case []string:
		a := make([]any, len(v))
		for i, s := range v {
			a[i] = s
		}
		return a
	case []any:
		a := make([]any, len(v))
		for i, x := range v {
			a[i] = plain(x)
		}
		return a
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = plain(x)
		}
		return m
	}
	return v
}

// Every value of the encodings table decodes to itself (the convenience
// types to their plain counterparts).
func TestDecodeRoundTrip(t *testing.T) {
	for _, tc := range encodings {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(h(tc.want))
			if err != nil {
				t.Fatal(err)
			}
			if !same(got, plain(tc.v)) {
				t.Fatalf("Decode = %#v, want %#v", got, plain(tc.v))
			}
		})
	}
}

// Forms AppendValue never writes are read and normalised.
func TestDecodeNormalises(t *testing.T) {
	cases := []struct {
		name, in string
		want     any
	}{
		{"uint8 small", "cc 05", int64(5)},
		{"uint16 small", "cd 0005", int64(5)},
		{"uint32 small", "ce 00000005", int64(5)},
		{"uint64 small", "cf 0000000000000005", int64(5)},
		{"uint64 2^63-1", "cf 7fffffffffffffff", int64(math.MaxInt64)},
		{"int8 positive", "d0 05", int64(5)},
		{"int8 -1", "d0 ff", int64(-1)},
		{"int16 -1", "d1 ffff", int64(-1)},
		{"int32 -1", "d2 ffffffff", int64(-1)},
		{"int64 -1", "d3 ffffffffffffffff", int64(-1)},
		{"int64 positive", "d3 0000000000000100", int64(256)},
		{"int64 -2^63", "d3 8000000000000000", int64(math.MinInt64)},
		{"float32 1.5", "ca 3fc00000", 1.5},
		{"float32 0.1 widened", "ca 3dcccccd", float64(float32(0.1))},
		{"float32 -inf", "ca ff800000", math.Inf(-1)},
		{"bin8 as string", "c4 03 ff0061", "\xff\x00a"},
		{"bin16 empty", "c5 0000", ""},
		{"bin32", "c6 00000001 41", "A"},
		{"str8 short", "d9 01 41", "A"},
		{"str16 short", "da 0001 41", "A"},
		{"str32 short", "db 00000001 41", "A"},
		{"array16 short", "dc 0001 c0", []any{nil}},
		{"array32 short", "dd 00000001 c0", []any{nil}},
		{"map16 short", "de 0001 a161 01", map[string]any{"a": int64(1)}},
		{"map32 short", "df 00000001 a161 01", map[string]any{"a": int64(1)}},
		{"bin key", "81 c4 01 ff 01", map[string]any{"\xff": int64(1)}},
		{"unsorted keys", "82 a162 02 a161 01", map[string]any{"a": int64(1), "b": int64(2)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(h(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if !same(got, tc.want) {
				t.Fatalf("Decode = %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestInvalidUTF8Survives(t *testing.T) {
	strs := []string{"\xff", "\xc3\x28", "a\x00b", "\xed\xa0\x80", "\xf4\x90\x80\x80", strings.Repeat("\xfe", 300)}
	v := map[string]any{}
	for _, s := range strs {
		v[s] = []any{s}
	}
	b, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil || !same(got, v) {
		t.Fatalf("Decode = %q, %v", got, err)
	}
}

// decodeErrors: every refusal, with its sentinel and offset.
var decodeErrors = []struct {
	name, in string
	err      error
	off      int
	msg      string
}{
	{"empty", "", ErrTruncated, 0, "no value: end of data"},
	{"0xc1", "c1", ErrFormat, 0, "format byte 0xc1 is never used"},
	{"0xc1 nested", "92 01 c1", ErrFormat, 2, "format byte 0xc1 is never used"},
	{"fixext1", "d4 01 00", ErrUnsupported, 0, "ext type (format byte 0xd4) is not supported"},
	{"fixext2", "d5 01 0000", ErrUnsupported, 0, ""},
	{"fixext4 timestamp32", "d6 ff 00000000", ErrUnsupported, 0, ""},
	{"fixext8 timestamp64", "d7 ff 0000000000000000", ErrUnsupported, 0, ""},
	{"fixext16", "d8 01" + strings.Repeat("00", 16), ErrUnsupported, 0, ""},
	{"ext8 timestamp96", "c7 0c ff" + strings.Repeat("00", 12), ErrUnsupported, 0, ""},
	{"ext16", "c8 0001 01 00", ErrUnsupported, 0, ""},
	{"ext32", "c9 00000001 01 00", ErrUnsupported, 0, ""},
	{"ext in map value", "81 a161 d4 01 00", ErrUnsupported, 3, ""},
	{"uint64 2^63", "cf 8000000000000000", ErrRange, 0, "integer 9223372036854775808 is above 2^63-1"},
	{"uint64 max", "cf ffffffffffffffff", ErrRange, 0, "integer 18446744073709551615 is above 2^63-1"},
	{"uint64 2^63 in array", "91 cf 8000000000000000", ErrRange, 1, ""},
	{"int key", "81 01 02", ErrType, 1, "map key is an integer, not a string"},
	{"nil key", "81 c0 02", ErrType, 1, "map key is nil, not a string"},
	{"array key", "81 90 02", ErrType, 1, "map key is an array, not a string"},
	{"map key", "81 80 02", ErrType, 1, "map key is a map, not a string"},
	{"float key", "81 cb 3ff8000000000000 02", ErrType, 1, "map key is a float, not a string"},
	{"ext key", "81 d4 01 00 02", ErrUnsupported, 1, ""},
	{"duplicate key", "82 a161 01 a161 02", ErrDuplicateKey, 4, `map key "a" occurs twice`},
	{"duplicate key str and bin", "82 a161 01 c4 01 61 02", ErrDuplicateKey, 4, ""},
	{"trailing", "01 02", ErrTrailing, 1, "1 bytes after the value"},
	{"trailing after map", "80 c0 c0", ErrTrailing, 1, "2 bytes after the value"},
	// truncation and length lies
	{"uint16 cut", "cd 01", ErrTruncated, 0, "integer needs 3 bytes, 2 left"},
	{"int64 cut", "d3 0000", ErrTruncated, 0, ""},
	{"float64 cut", "cb 3ff8", ErrTruncated, 0, "float needs 9 bytes, 3 left"},
	{"float32 cut", "ca 3f", ErrTruncated, 0, ""},
	{"fixstr cut", "a3 6162", ErrTruncated, 0, "string of 3 bytes, 2 left"},
	{"str8 header cut", "d9", ErrTruncated, 0, "string needs 2 bytes, 1 left"},
	{"str16 header cut", "da 00", ErrTruncated, 0, ""},
	{"str32 header cut", "db 000000", ErrTruncated, 0, ""},
	{"str32 lie", "db ffffffff 6162", ErrTruncated, 0, "string of 4294967295 bytes, 2 left"},
	{"bin32 lie", "c6 ffffffff 6162", ErrTruncated, 0, "binary of 4294967295 bytes, 2 left"},
	{"array32 lie", "dd ffffffff 0102030405", ErrTruncated, 0, "array of 4294967295 elements, 5 bytes left"},
	{"array16 lie", "dc ffff 01", ErrTruncated, 0, "array of 65535 elements, 1 bytes left"},
	{"fixarray lie", "93 01 02", ErrTruncated, 0, "array of 3 elements, 2 bytes left"},
	{"map32 lie", "df ffffffff 0102030405", ErrTruncated, 0, "map of 4294967295 elements, 5 bytes left"},
	{"map counts two bytes per entry", "82 a161 01", ErrTruncated, 0, "map of 2 elements, 3 bytes left"},
	{"map value missing", "81 a161", ErrTruncated, 3, "no value: end of data"},
	{"nested lie", "91 dd ffffffff 00", ErrTruncated, 1, ""},
	{"inner cut", "92 a2 61", ErrTruncated, 1, ""},
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range decodeErrors {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Decode(h(tc.in))
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("Decode = %#v, %v; want a *DecodeError", v, err)
			}
			if v != nil {
				t.Errorf("Decode returned %#v with the error", v)
			}
			if !errors.Is(err, tc.err) || de.Offset != tc.off || (tc.msg != "" && de.Msg != tc.msg) {
				t.Fatalf("error %v (%v, offset %d)\nwant %q (%v, offset %d)", err, de.Err, de.Offset, tc.msg, tc.err, tc.off)
			}
			if !strings.HasPrefix(err.Error(), "wire: at byte ") {
				t.Fatalf("Error() = %q", err)
			}
		})
	}
}

// Every proper prefix of a valid encoding is refused as truncated.
func TestDecodeEveryPrefix(t *testing.T) {
	v := map[string]any{"a": []any{int64(1), int64(300), int64(-70000), 1.5, "str", strings.Repeat("s", 40), map[string]any{"x": nil, "y": true}}}
	b, err := Encode(v)
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(b) {
		if _, err := Decode(b[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Decode(first %d of %d bytes) = %v, want ErrTruncated", i, len(b), err)
		}
		if err := NewReader(b[:i]).Skip(); !errors.Is(err, ErrTruncated) {
			t.Fatalf("Skip(first %d of %d bytes) = %v, want ErrTruncated", i, len(b), err)
		}
	}
}

// encodedNest is the encoding of depth nested arrays (or maps under "k")
// around the integer 1.
func encodedNest(depth int, maps bool) []byte {
	var b []byte
	for range depth {
		if maps {
			b = append(b, 0x81, 0xa1, 'k')
		} else {
			b = append(b, 0x91)
		}
	}
	return append(b, 0x01)
}

func TestDecodeDepth(t *testing.T) {
	for _, maps := range []bool{false, true} {
		ok := encodedNest(MaxDepth, maps)
		v, err := Decode(ok)
		if err != nil || !same(v, nest(MaxDepth, maps)) {
			t.Fatalf("maps=%v: %d levels: %v", maps, MaxDepth, err)
		}
		deep := encodedNest(MaxDepth+1, maps)
		_, err = Decode(deep)
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, ErrDepth) {
			t.Fatalf("maps=%v: %d levels: %v, want ErrDepth", maps, MaxDepth+1, err)
		}
		per := 1
		if maps {
			per = 3
		}
		if de.Offset != MaxDepth*per {
			t.Fatalf("maps=%v: offset %d, want %d (the 65th container)", maps, de.Offset, MaxDepth*per)
		}
		// a much deeper input (what msgpack itself allows) is refused as fast
		huge := encodedNest(1<<20, maps)
		if _, err := Decode(huge); !errors.Is(err, ErrDepth) {
			t.Fatalf("maps=%v: 2^20 levels: %v", maps, err)
		}
		// Skip has no depth limit and no recursion
		r := NewReader(huge)
		if err := r.Skip(); err != nil || r.Remaining() != 0 {
			t.Fatalf("maps=%v: Skip of 2^20 levels: %v, %d left", maps, err, r.Remaining())
		}
	}
	// an empty container at the limit counts as a level too
	b := append(encodedNest(MaxDepth, false)[:MaxDepth], 0x90)
	if _, err := Decode(b); !errors.Is(err, ErrDepth) {
		t.Fatalf("empty array at level 65: %v", err)
	}
	// ReadValue's limit is the caller's
	for depth := range 3 {
		r := NewReader(encodedNest(2, false))
		_, err := r.ReadValue(depth)
		if (err == nil) != (depth >= 2) {
			t.Fatalf("ReadValue(%d) of 2 levels: %v", depth, err)
		}
	}
	if v, err := NewReader([]byte{0x05}).ReadValue(0); err != nil || v != int64(5) {
		t.Fatalf("ReadValue(0) of a scalar = %v, %v", v, err)
	}
}

// heapAllocBytes is the total of bytes allocated so far.
func heapAllocBytes() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// A header that claims more elements than the input can hold is refused
// before anything is allocated for it.
func TestLengthLiesDoNotAllocate(t *testing.T) {
	lies := []string{
		"dd ffffffff 0102030405",
		"df ffffffff 0102030405",
		"db ffffffff 0102030405",
		"c6 ffffffff 0102030405",
		"dc ffff 0102030405",
		"de ffff 0102030405",
		"91 91 91 dd ffffffff 0102030405",
		"df 00000004 a161 dd ffffffff 0102030405",
	}
	for _, in := range lies {
		b := h(in)
		before := heapAllocBytes()
		_, err := Decode(b)
		if used := heapAllocBytes() - before; used > 1024 {
			t.Errorf("% x: allocated %d bytes", b, used)
		}
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("% x: %v, want ErrTruncated", b, err)
		}
	}
}

// Decoded strings are copies, unless the Reader aliases.
func TestStringsCopiedOrAliased(t *testing.T) {
	b, err := Encode(map[string]any{"key": "value", "k2": []any{"inner"}})
	if err != nil {
		t.Fatal(err)
	}
	inside := func(s string) bool {
		p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
		start := uintptr(unsafe.Pointer(&b[0]))
		return p >= start && p < start+uintptr(len(b))
	}
	v, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAliasingReader(b).ReadValue(MaxDepth)
	if err != nil {
		t.Fatal(err)
	}
	for k, x := range v.(map[string]any) {
		if inside(k) {
			t.Errorf("Decode: key %q aliases the input", k)
		}
		if s, ok := x.(string); ok && inside(s) {
			t.Errorf("Decode: value %q aliases the input", s)
		}
	}
	m := a.(map[string]any)
	for k := range m {
		if !inside(k) {
			t.Errorf("aliasing Reader: key %q is a copy", k)
		}
	}
	if !inside(m["key"].(string)) || !inside(m["k2"].([]any)[0].(string)) {
		t.Error("aliasing Reader: a string value is a copy")
	}
	copy(b, bytes.Repeat([]byte{0}, len(b))) // the caller reuses its buffer
	want := map[string]any{"key": "value", "k2": []any{"inner"}}
	if !same(v, want) {
		t.Fatalf("Decode's value changed with the buffer: %#v", v)
	}
}

func TestDecodeEmptyContainers(t *testing.T) {
	v, err := Decode(h("92 90 80"))
	if err != nil {
		t.Fatal(err)
	}
	a := v.([]any)
	if e, ok := a[0].([]any); !ok || e == nil || len(e) != 0 {
		t.Fatalf("empty array decodes as %#v", a[0])
	}
	if e, ok := a[1].(map[string]any); !ok || e == nil || len(e) != 0 {
		t.Fatalf("empty map decodes as %#v", a[1])
	}
	a[1].(map[string]any)["x"] = nil // a usable map
}

func TestDecodeScalarsDoNotAllocate(t *testing.T) {
	for _, in := range []string{"01", "c3", "c0", "a0", "cc ff", "90"} {
		b := h(in)
		if a := testing.AllocsPerRun(100, func() { _, _ = Decode(b) }); a != 0 {
			t.Errorf("Decode(% x) allocates %v times", b, a)
		}
	}
}
