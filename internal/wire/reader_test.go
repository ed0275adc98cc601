package wire

import (
	"errors"
	"math"
	"testing"
)

// An envelope written with the primitives reads back field by field, and
// an unknown field is skipped.
func TestReaderEnvelope(t *testing.T) {
	content := map[string]any{"temp": 21.5, "tags": []any{"a", "b"}}
	var b []byte
	b = AppendMapHeader(b, 6)
	b = AppendString(b, "kind")
	b = AppendString(b, "report")
	b = AppendString(b, "seq")
	b = AppendUint(b, math.MaxUint64)
	b = AppendString(b, "future")
	b = AppendArrayHeader(b, 2)
	b = AppendMapHeader(b, 1)
	b = AppendString(b, "x")
	b = AppendNil(b)
	b = AppendBytes(b, []byte{0xff})
	b = AppendString(b, "id")
	b = AppendBytes(b, []byte{1, 2, 3})
	b = AppendString(b, "ok")
	b = AppendBool(b, true)
	b = AppendString(b, "content")
	b, err := AppendValue(b, content)
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, 0xc0) // a second message in the same buffer

	r := NewReader(b)
	n, err := r.ReadMapLen()
	if err != nil || n != 6 {
		t.Fatalf("ReadMapLen = %d, %v", n, err)
	}
	seen := map[string]bool{}
	for range n {
		key, err := r.ReadString()
		if err != nil {
			t.Fatal(err)
		}
		seen[key] = true
		switch key {
		case "kind":
			if s, err := r.ReadString(); err != nil || s != "report" {
				t.Fatalf("kind = %q, %v", s, err)
			}
		case "seq":
			if u, err := r.ReadUint(); err != nil || u != math.MaxUint64 {
				t.Fatalf("seq = %d, %v", u, err)
			}
		case "id":
			if p, err := r.ReadBytes(); err != nil || string(p) != "\x01\x02\x03" {
				t.Fatalf("id = %x, %v", p, err)
			}
		case "ok":
			if v, err := r.ReadBool(); err != nil || !v {
				t.Fatalf("ok = %v, %v", v, err)
			}
		case "content":
			if k, err := r.PeekKind(); err != nil || k != Map {
				t.Fatalf("PeekKind = %v, %v", k, err)
			}
			v, err := r.ReadValue(MaxDepth)
			if err != nil || !same(v, content) {
				t.Fatalf("content = %#v, %v", v, err)
			}
		default:
			if err := r.Skip(); err != nil {
				t.Fatalf("Skip %q: %v", key, err)
			}
		}
	}
	if len(seen) != 6 || !seen["future"] {
		t.Fatalf("keys read: %v", seen)
	}
	if r.Remaining() != 1 || r.Offset() != len(b)-1 {
		t.Fatalf("Remaining = %d, Offset = %d; want 1, %d", r.Remaining(), r.Offset(), len(b)-1)
	}
	if err := r.ReadNil(); err != nil || r.Remaining() != 0 {
		t.Fatalf("ReadNil = %v, %d left", err, r.Remaining())
	}
	if _, err := r.PeekKind(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("PeekKind at the end = %v", err)
	}
	r.Reset([]byte{0x07})
	if i, err := r.ReadInt(); err != nil || i != 7 || r.Offset() != 1 {
		t.Fatalf("after Reset: %d, %v", i, err)
	}
}

func TestPeekKind(t *testing.T) {
	cases := []struct {
		in   string
		want Kind
	}{
		{"00", Int}, {"7f", Int}, {"e0", Int}, {"ff", Int}, {"cc 01", Int}, {"cf", Int}, {"d0", Int}, {"d3", Int},
		{"c0", Nil}, {"c2", Bool}, {"c3", Bool},
		{"ca", Float}, {"cb", Float},
		{"a0", String}, {"bf", String}, {"d9", String}, {"da", String}, {"db", String},
		{"c4", Binary}, {"c5", Binary}, {"c6", Binary},
		{"90", Array}, {"9f", Array}, {"dc", Array}, {"dd", Array},
		{"80", Map}, {"8f", Map}, {"de", Map}, {"df", Map},
	}
	for _, tc := range cases {
		r := NewReader(h(tc.in))
		if k, err := r.PeekKind(); err != nil || k != tc.want {
			t.Errorf("PeekKind(% x) = %v, %v; want %v", h(tc.in), k, err, tc.want)
		}
		if r.Offset() != 0 {
			t.Errorf("PeekKind(% x) moved", h(tc.in))
		}
	}
	for _, c := range []byte{0xc1, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8} {
		k, err := NewReader([]byte{c}).PeekKind()
		if k != Invalid || err == nil {
			t.Errorf("PeekKind(%02x) = %v, %v; want an error", c, k, err)
		}
	}
	if Kind(200).String() != "Kind(200)" || Binary.String() != "binary" {
		t.Error("Kind.String")
	}
}

// A Read method that finds another kind fails without moving, so a caller
// may try another.
func TestReaderWrongKind(t *testing.T) {
	r := NewReader(h("a161"))
	fails := []func() error{
		func() error { _, err := r.ReadInt(); return err },
		func() error { _, err := r.ReadUint(); return err },
		func() error { _, err := r.ReadFloat(); return err },
		func() error { _, err := r.ReadBool(); return err },
		func() error { return r.ReadNil() },
		func() error { _, err := r.ReadArrayLen(); return err },
		func() error { _, err := r.ReadMapLen(); return err },
	}
	for i, f := range fails {
		err := f()
		var de *DecodeError
		if !errors.As(err, &de) || !errors.Is(err, ErrType) || de.Offset != 0 || r.Offset() != 0 {
			t.Fatalf("read %d: %v at offset %d", i, err, r.Offset())
		}
	}
	if _, err := r.ReadInt(); err.Error() != "wire: at byte 0: expected integer, found string" {
		t.Fatalf("message: %v", err)
	}
	if s, err := r.ReadString(); err != nil || s != "a" {
		t.Fatalf("ReadString = %q, %v", s, err)
	}
	r = NewReader(h("01"))
	if _, err := r.ReadString(); !errors.Is(err, ErrType) {
		t.Fatalf("ReadString of an int: %v", err)
	}
	if _, err := r.ReadFloat(); !errors.Is(err, ErrType) {
		t.Fatalf("ReadFloat of an int: %v", err) // integers are not floats here
	}
	r = NewReader(h("d4 00 00"))
	if _, err := r.ReadInt(); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("ReadInt of an ext: %v", err)
	}
	for _, f := range []func(r *Reader) error{
		func(r *Reader) error { _, err := r.ReadInt(); return err },
		func(r *Reader) error { _, err := r.ReadString(); return err },
		func(r *Reader) error { _, err := r.ReadMapLen(); return err },
		func(r *Reader) error { return r.ReadNil() },
		func(r *Reader) error { _, err := r.ReadValue(1); return err },
		func(r *Reader) error { return r.Skip() },
	} {
		if err := f(NewReader(nil)); !errors.Is(err, ErrTruncated) {
			t.Fatalf("reading an empty buffer: %v", err)
		}
	}
	var zero Reader
	if _, err := zero.ReadBool(); !errors.Is(err, ErrTruncated) || zero.Remaining() != 0 {
		t.Fatalf("zero Reader: %v", err)
	}
}

func TestReaderIntRanges(t *testing.T) {
	cases := []struct {
		in      string
		i       int64
		iErr    error
		u       uint64
		uErr    error
		advance int
	}{
		{"7f", 127, nil, 127, nil, 1},
		{"ff", -1, nil, 0, ErrRange, 1},
		{"d0 80", -128, nil, 0, ErrRange, 2},
		{"d3 8000000000000000", math.MinInt64, nil, 0, ErrRange, 9},
		{"d3 7fffffffffffffff", math.MaxInt64, nil, math.MaxInt64, nil, 9},
		{"cf 7fffffffffffffff", math.MaxInt64, nil, math.MaxInt64, nil, 9},
		{"cf 8000000000000000", 0, ErrRange, 1 << 63, nil, 9},
		{"cf ffffffffffffffff", 0, ErrRange, math.MaxUint64, nil, 9},
		{"ce ffffffff", math.MaxUint32, nil, math.MaxUint32, nil, 5},
		{"d2 80000000", math.MinInt32, nil, 0, ErrRange, 5},
		{"d1 7fff", 32767, nil, 32767, nil, 3},
	}
	for _, tc := range cases {
		r := NewReader(h(tc.in))
		i, err := r.ReadInt()
		if !errors.Is(err, tc.iErr) || (err == nil && (i != tc.i || r.Offset() != tc.advance)) || (err != nil && r.Offset() != 0) {
			t.Errorf("ReadInt(% x) = %d, %v at %d", h(tc.in), i, err, r.Offset())
		}
		r = NewReader(h(tc.in))
		u, err := r.ReadUint()
		if !errors.Is(err, tc.uErr) || (err == nil && (u != tc.u || r.Offset() != tc.advance)) || (err != nil && r.Offset() != 0) {
			t.Errorf("ReadUint(% x) = %d, %v at %d", h(tc.in), u, err, r.Offset())
		}
	}
}

func TestReaderFloat(t *testing.T) {
	r := NewReader(h("ca 3fc00000 cb 3ff8000000000000"))
	for range 2 {
		if f, err := r.ReadFloat(); err != nil || f != 1.5 {
			t.Fatalf("ReadFloat = %v, %v", f, err)
		}
	}
	for _, in := range []string{"ca 3fc000", "cb 3ff80000"} {
		r := NewReader(h(in))
		if _, err := r.ReadFloat(); !errors.Is(err, ErrTruncated) || r.Offset() != 0 {
			t.Fatalf("ReadFloat(% x) = %v", h(in), err)
		}
	}
}

func TestReaderCollectionLens(t *testing.T) {
	r := NewReader(h("dc 0002 c0 c0"))
	if n, err := r.ReadArrayLen(); err != nil || n != 2 || r.Offset() != 3 {
		t.Fatalf("ReadArrayLen = %d, %v", n, err)
	}
	r = NewReader(h("de 0002 c0 c0"))
	if _, err := r.ReadMapLen(); !errors.Is(err, ErrTruncated) || r.Offset() != 0 {
		t.Fatalf("ReadMapLen of 2 entries in 2 bytes = %v", err)
	}
	r = NewReader(h("dd 0000"))
	if _, err := r.ReadArrayLen(); !errors.Is(err, ErrTruncated) {
		t.Fatalf("ReadArrayLen of a cut header = %v", err)
	}
}

func TestSkip(t *testing.T) {
	ok := []string{
		"c0", "cf 8000000000000000", "ca 00000000", "c4 02 0000", "db 00000001 61",
		"82 01 02 c0 93 a0 80 91 90", // non-string keys and duplicates are not Skip's business
		"82 a161 01 a161 02",
	}
	for _, in := range ok {
		b := append(h(in), 0x2a)
		r := NewReader(b)
		if err := r.Skip(); err != nil || r.Remaining() != 1 {
			t.Errorf("Skip(% x) = %v, %d left", h(in), err, r.Remaining())
		}
	}
	bad := []struct {
		in  string
		err error
	}{
		{"92 01 d4 00 00", ErrUnsupported},
		{"81 c1 01", ErrFormat},
		{"dd ffffffff 00", ErrTruncated},
		{"92 dc 0003 01 02", ErrTruncated},
		{"95 95 95 01", ErrTruncated},
		{"db 00000005 61", ErrTruncated},
	}
	for _, tc := range bad {
		r := NewReader(h(tc.in))
		if err := r.Skip(); !errors.Is(err, tc.err) {
			t.Errorf("Skip(% x) = %v, want %v", h(tc.in), err, tc.err)
		}
	}
	nested := encodedNest(10, true)
	if a := testing.AllocsPerRun(100, func() { _ = NewReader(nested).Skip() }); a != 0 {
		t.Errorf("Skip allocates %v times", a)
	}
}
