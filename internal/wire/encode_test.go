package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"
)

// h decodes hex written with optional spaces.
func h(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// encodings pins AppendValue's output to the byte forms of the msgpack
// specification.
var encodings = []struct {
	name string
	v    any
	want string // hex
}{
	{"nil", nil, "c0"},
	{"false", false, "c2"},
	{"true", true, "c3"},

	{"int 0", int64(0), "00"},
	{"int 1", int64(1), "01"},
	{"int 127 fixint", int64(127), "7f"},
	{"int 128 uint8", int64(128), "cc 80"},
	{"int 255 uint8", int64(255), "cc ff"},
	{"int 256 uint16", int64(256), "cd 0100"},
	{"int 65535 uint16", int64(65535), "cd ffff"},
	{"int 65536 uint32", int64(65536), "ce 00010000"},
	{"int 2^32-1 uint32", int64(math.MaxUint32), "ce ffffffff"},
	{"int 2^32 uint64", int64(math.MaxUint32 + 1), "cf 0000000100000000"},
	{"int 2^53", int64(1 << 53), "cf 0020000000000000"},
	{"int 2^63-1", int64(math.MaxInt64), "cf 7fffffffffffffff"},
	{"int -1 negfixint", int64(-1), "ff"},
	{"int -32 negfixint", int64(-32), "e0"},
	{"int -33 int8", int64(-33), "d0 df"},
	{"int -128 int8", int64(-128), "d0 80"},
	{"int -129 int16", int64(-129), "d1 ff7f"},
	{"int -32768 int16", int64(-32768), "d1 8000"},
	{"int -32769 int32", int64(-32769), "d2 ffff7fff"},
	{"int -2^31 int32", int64(math.MinInt32), "d2 80000000"},
	{"int -2^31-1 int64", int64(math.MinInt32 - 1), "d3 ffffffff7fffffff"},
	{"int -2^53", int64(-1 << 53), "d3 ffe0000000000000"},
	{"int -2^63", int64(math.MinInt64), "d3 8000000000000000"},

	{"float 1.5", 1.5, "cb 3ff8000000000000"},
	{"float integral stays float", 3.0, "cb 4008000000000000"},
	{"float 2^53+2", float64(1<<53 + 2), "cb 4340000000000001"},
	{"float -0", math.Copysign(0, -1), "cb 8000000000000000"},
	{"float +inf", math.Inf(1), "cb 7ff0000000000000"},
	{"float -inf", math.Inf(-1), "cb fff0000000000000"},
	{"float NaN", math.Float64frombits(0x7ff8000000000001), "cb 7ff8000000000001"},

	{"str empty", "", "a0"},
	{"str a", "a", "a1 61"},
	{"str invalid UTF-8", "\xff\xfe\x00", "a3 fffe00"},
	{"str 31 fixstr", strings.Repeat("x", 31), "bf" + strings.Repeat("78", 31)},
	{"str 32 str8", strings.Repeat("x", 32), "d9 20" + strings.Repeat("78", 32)},
	{"str 255 str8", strings.Repeat("x", 255), "d9 ff" + strings.Repeat("78", 255)},
	{"str 256 str16", strings.Repeat("x", 256), "da 0100" + strings.Repeat("78", 256)},
	{"str 65535 str16", strings.Repeat("x", 65535), "da ffff" + strings.Repeat("78", 65535)},
	{"str 65536 str32", strings.Repeat("x", 65536), "db 00010000" + strings.Repeat("78", 65536)},

	{"array empty", []any{}, "90"},
	{"array nil slice", []any(nil), "90"},
	{"array mixed", []any{int64(1), "a", nil, true}, "94 01 a161 c0 c3"},
	{"array 15 fixarray", make([]any, 15), "9f" + strings.Repeat("c0", 15)},
	{"array 16 array16", make([]any, 16), "dc 0010" + strings.Repeat("c0", 16)},
	{"array 65535 array16", make([]any, 65535), "dc ffff" + strings.Repeat("c0", 65535)},
	{"array 65536 array32", make([]any, 65536), "dd 00010000" + strings.Repeat("c0", 65536)},

	{"map empty", map[string]any{}, "80"},
	{"map nil", map[string]any(nil), "80"},
	{"map sorted by bytes", map[string]any{"b": int64(2), "a": int64(1), "B": nil, "aa": false, "": true},
		"85 a0 c3 a142 c0 a161 01 a26161 c2 a162 02"},
	{"map key invalid UTF-8", map[string]any{"\xff": "\xfe"}, "81 a1ff a1fe"},
	{"map 15 fixmap", nMap(15), "8f" + nMapHex(15)},
	{"map 16 map16", nMap(16), "de 0010" + nMapHex(16)},
	{"map nested", map[string]any{"a": []any{map[string]any{"b": 1.5}}}, "81 a161 91 81 a162 cb3ff8000000000000"},

	// convenience types, written as their plain counterparts
	{"int", int(-200), "d1 ff38"},
	{"int32", int32(math.MaxInt32), "ce 7fffffff"},
	{"uint64", uint64(300), "cd 012c"},
	{"uint64 2^63-1", uint64(math.MaxInt64), "cf 7fffffffffffffff"},
	{"float32 widened", float32(0.1), "cb 3fb99999a0000000"},
	{"[]string", []string{"a", "\xff"}, "92 a161 a1ff"},
	{"[]string nil", []string(nil), "90"},
}

// nMap is a map with keys "k00".."k<n-1>" and nil values; nMapHex its
// entries in order.
func nMap(n int) map[string]any {
	m := map[string]any{}
	for i := range n {
		m["k"+string(rune('0'+i/10))+string(rune('0'+i%10))] = nil
	}
	return m
}

func nMapHex(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(hex.EncodeToString([]byte{0xa3, 'k', byte('0' + i/10), byte('0' + i%10), 0xc0}))
	}
	return b.String()
}

func TestAppendValueEncodings(t *testing.T) {
	for _, tc := range encodings {
		t.Run(tc.name, func(t *testing.T) {
			want := h(tc.want)
			got, err := Encode(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Encode = % x\nwant     % x", trim(got), trim(want))
			}
			// appending keeps what is there
			got, err = AppendValue([]byte("pre"), tc.v)
			if err != nil || !bytes.Equal(got, append([]byte("pre"), want...)) {
				t.Fatalf("AppendValue after a prefix = % x, %v", trim(got), err)
			}
			if n, err := Size(tc.v); err != nil || n != len(want) {
				t.Fatalf("Size = %d, %v; want %d", n, err, len(want))
			}
			if n, ok := SizeWithin(tc.v, len(want)); !ok || n != len(want) {
				t.Fatalf("SizeWithin(limit = size) = %d, %v", n, ok)
			}
			if n, ok := SizeWithin(tc.v, len(want)-1); ok || n < len(want) {
				t.Fatalf("SizeWithin(limit = size-1) = %d, %v; want a number > limit, false", n, ok)
			}
		})
	}
}

func trim(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}

// The primitives write the same forms as AppendValue and as the header
// size functions say.
func TestPrimitives(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"nil", AppendNil(nil), "c0"},
		{"bool", AppendBool(AppendBool(nil, true), false), "c3 c2"},
		{"int", AppendInt(nil, -33), "d0 df"},
		{"uint above 2^63-1", AppendUint(nil, math.MaxUint64), "cf ffffffffffffffff"},
		{"uint 200", AppendUint(nil, 200), "cc c8"},
		{"float", AppendFloat(nil, 1.5), "cb 3ff8000000000000"},
		{"string", AppendString(nil, "ab"), "a2 6162"},
		{"bytes empty", AppendBytes(nil, nil), "c4 00"},
		{"bytes 3", AppendBytes(nil, []byte{1, 2, 3}), "c4 03 010203"},
		{"bytes 256", AppendBytes(nil, make([]byte, 256))[:3], "c5 0100"},
		{"bytes 65536", AppendBytes(nil, make([]byte, 65536))[:5], "c6 00010000"},
		{"array header 3", AppendArrayHeader(nil, 3), "93"},
		{"array header 16", AppendArrayHeader(nil, 16), "dc 0010"},
		{"array header 2^16", AppendArrayHeader(nil, 1<<16), "dd 00010000"},
		{"array header 2^32-1", AppendArrayHeader(nil, math.MaxUint32), "dd ffffffff"},
		{"map header 0", AppendMapHeader(nil, 0), "80"},
		{"map header 15", AppendMapHeader(nil, 15), "8f"},
		{"map header 65535", AppendMapHeader(nil, 65535), "de ffff"},
		{"map header 2^16", AppendMapHeader(nil, 1<<16), "df 00010000"},
	}
	for _, tc := range cases {
		if want := h(tc.want); !bytes.Equal(tc.got, want) {
			t.Errorf("%s: % x, want % x", tc.name, tc.got, want)
		}
	}
}

func TestHeaderSizes(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536, math.MaxUint32} {
		if got, want := StringHeaderSize(n), len(appendStringHeader(nil, n)); got != want {
			t.Errorf("StringHeaderSize(%d) = %d, want %d", n, got, want)
		}
		if got, want := ArrayHeaderSize(n), len(AppendArrayHeader(nil, n)); got != want {
			t.Errorf("ArrayHeaderSize(%d) = %d, want %d", n, got, want)
		}
		if got, want := MapHeaderSize(n), len(AppendMapHeader(nil, n)); got != want {
			t.Errorf("MapHeaderSize(%d) = %d, want %d", n, got, want)
		}
		if got, want := BytesHeaderSize(n), len(AppendBytes(nil, make([]byte, min(n, 70000))))-min(n, 70000); n <= 70000 && got != want {
			t.Errorf("BytesHeaderSize(%d) = %d, want %d", n, got, want)
		}
		if got := StringHeaderSize(n); got > MaxHeaderSize {
			t.Errorf("StringHeaderSize(%d) = %d > MaxHeaderSize", n, got)
		}
	}
	if BytesHeaderSize(math.MaxUint32) != 5 {
		t.Error("BytesHeaderSize(2^32-1) != 5")
	}
	for _, i := range []int64{0, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
		-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, math.MinInt32 - 1, math.MinInt64} {
		if got, want := IntSize(i), len(AppendInt(nil, i)); got != want || got > MaxIntSize {
			t.Errorf("IntSize(%d) = %d, want %d", i, got, want)
		}
	}
	if got := UintSize(math.MaxUint64); got != len(AppendUint(nil, math.MaxUint64)) {
		t.Errorf("UintSize(2^64-1) = %d", got)
	}
	if len(AppendFloat(nil, 1)) != FloatSize || len(AppendNil(nil)) != NilSize || len(AppendBool(nil, true)) != BoolSize {
		t.Error("a fixed size constant is wrong")
	}
}

// nest returns a value of depth containers: arrays, or maps under key "k".
func nest(depth int, maps bool) any {
	var v any = int64(1)
	for range depth {
		if maps {
			v = map[string]any{"k": v}
		} else {
			v = []any{v}
		}
	}
	return v
}

func TestAppendValueErrors(t *testing.T) {
	cyclic := []any{nil}
	cyclic[0] = cyclic
	var deepStrings any = []string{"x"} // a []string inside 64 containers
	for range MaxDepth {
		deepStrings = []any{deepStrings}
	}
	deepPath := strings.Repeat("[1]", MaxDepth)
	cases := []struct {
		name string
		v    any
		path string
		msg  string
		err  error
	}{
		{"chan", make(chan int), "", "chan int cannot be encoded", ErrUnsupported},
		{"nested chan", map[string]any{"items": []any{int64(1), int64(2), make(chan int)}}, ".items[3]", "chan int cannot be encoded", ErrUnsupported},
		{"odd key", map[string]any{"a b": []any{struct{}{}}}, `["a b"][1]`, "struct {} cannot be encoded", ErrUnsupported},
		{"func", []any{func() {}}, "[1]", "func() cannot be encoded", ErrUnsupported},
		{"uint", uint(1), "", "uint cannot be encoded", ErrUnsupported},
		{"[]byte", []byte("x"), "", "[]uint8 cannot be encoded", ErrUnsupported},
		{"map[string]string", map[string]string{}, "", "map[string]string cannot be encoded", ErrUnsupported},
		{"pointer", new(int64), "", "*int64 cannot be encoded", ErrUnsupported},
		{"uint64 2^63", map[string]any{"n": uint64(1 << 63)}, ".n", "uint64 9223372036854775808 is above 2^63-1", ErrRange},
		{"uint64 max", uint64(math.MaxUint64), "", "uint64 18446744073709551615 is above 2^63-1", ErrRange},
		{"arrays too deep", nest(MaxDepth+1, false), deepPath, "nested deeper than 64 levels (or contains itself)", ErrDepth},
		{"maps too deep", nest(MaxDepth+1, true), strings.Repeat(".k", MaxDepth), "nested deeper than 64 levels (or contains itself)", ErrDepth},
		{"[]string too deep", deepStrings, deepPath, "nested deeper than 64 levels (or contains itself)", ErrDepth},
		{"cycle", cyclic, deepPath, "nested deeper than 64 levels (or contains itself)", ErrDepth},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte("pre")
			out, err := AppendValue(dst, tc.v)
			var ee *EncodeError
			if !errors.As(err, &ee) {
				t.Fatalf("AppendValue error = %v, want an *EncodeError", err)
			}
			if ee.Path != tc.path || ee.Msg != tc.msg || !errors.Is(err, tc.err) {
				t.Fatalf("got Path %q Msg %q (%v)\nwant Path %q Msg %q (%v)", ee.Path, ee.Msg, ee.Err, tc.path, tc.msg, tc.err)
			}
			if want := "value" + tc.path + ": " + tc.msg; err.Error() != want {
				t.Fatalf("Error() = %q, want %q", err, want)
			}
			if string(out) != "pre" {
				t.Fatalf("AppendValue returned % x, want dst unchanged", out)
			}
			if n, ok := SizeWithin(tc.v, 1<<30); ok || n != -1 {
				t.Fatalf("SizeWithin = %d, %v; want -1, false", n, ok)
			}
			if _, err := Size(tc.v); !errors.As(err, &ee) {
				t.Fatalf("Size error = %v", err)
			}
		})
	}
}

// MaxDepth levels are fine; MaxDepth+1 are refused (above).
func TestAppendValueMaxDepth(t *testing.T) {
	for _, maps := range []bool{false, true} {
		v := nest(MaxDepth, maps)
		b, err := Encode(v)
		if err != nil {
			t.Fatalf("maps=%v: %v", maps, err)
		}
		got, err := Decode(b)
		if err != nil || !same(got, v) {
			t.Fatalf("maps=%v: round trip = %v, %v", maps, got, err)
		}
	}
}

func TestSizeWithinStopsEarly(t *testing.T) {
	big := make([]any, 1000)
	for i := range big {
		big[i] = strings.Repeat("x", 100) // 102 bytes each
	}
	// past the limit after the header and ten elements: n is what it had
	n, ok := SizeWithin(big, 1000)
	if ok || n != 3+10*102 {
		t.Fatalf("SizeWithin = %d, %v; want %d, false", n, ok, 3+10*102)
	}
	// an unencodable element after the limit is not reached
	bad := append(append([]any{}, big...), make(chan int))
	if n, ok := SizeWithin(bad, 1000); ok || n <= 1000 {
		t.Fatalf("SizeWithin(too large, then bad) = %d, %v", n, ok)
	}
	if n, ok := SizeWithin(bad, 1<<20); ok || n != -1 {
		t.Fatalf("SizeWithin(bad within limit) = %d, %v", n, ok)
	}
	m := map[string]any{"a": big}
	if n, ok := SizeWithin(m, 100); ok || n <= 100 {
		t.Fatalf("SizeWithin(map) = %d, %v", n, ok)
	}
	if n, ok := SizeWithin(map[string]any{strings.Repeat("k", 200): nil}, 100); ok || n <= 100 {
		t.Fatalf("SizeWithin(long key) = %d, %v", n, ok)
	}
	if n, ok := SizeWithin([]string{strings.Repeat("k", 200)}, 100); ok || n <= 100 {
		t.Fatalf("SizeWithin(long []string) = %d, %v", n, ok)
	}
	if n, ok := SizeWithin("x", 0); ok || n != 2 {
		t.Fatalf("SizeWithin(x, 0) = %d, %v", n, ok)
	}
}

func TestSizeWithinAllocates(t *testing.T) {
	if a := testing.AllocsPerRun(100, func() { SizeWithin(benchReport, 1<<20) }); a != 0 {
		t.Fatalf("SizeWithin allocates %v times", a)
	}
	buf := make([]byte, 0, 1024)
	if a := testing.AllocsPerRun(100, func() { buf, _ = AppendValue(buf[:0], benchReport) }); a != 0 {
		t.Fatalf("AppendValue into a large enough buffer allocates %v times", a)
	}
}

func TestAppendPanicsOnNegativeLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	AppendArrayHeader(nil, -1)
}
