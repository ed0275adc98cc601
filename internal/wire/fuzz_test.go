package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// maxFuzzInput caps the inputs the fuzz targets look at, to keep each run fast.
const maxFuzzInput = 1 << 16

// structural errors are the ones Skip finds too.
func structural(err error) bool {
	return errors.Is(err, ErrTruncated) || errors.Is(err, ErrFormat) || errors.Is(err, ErrUnsupported)
}

// FuzzDecode: Decode never panics, allocates in proportion to its input,
// and whatever it accepts re-encodes canonically and decodes to the same
// value; Skip agrees with it on what is well-formed.
func FuzzDecode(f *testing.F) {
	for _, tc := range encodings {
		if b := h(tc.want); len(b) < 1024 {
			f.Add(b)
		}
	}
	for _, tc := range decodeErrors {
		f.Add(h(tc.in))
	}
	f.Add(encodedNest(MaxDepth, true))
	f.Add(encodedNest(MaxDepth+1, false))
	f.Add(h("82 a3 736571 ce 0001e240 a4 6e616d65 a6 73656e736f72"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			return
		}
		v, err := Decode(b)
		// The allocation counter is the process's: the fuzzing machinery
		// allocates too, now and then, so only a bound exceeded three
		// times running counts.
		bound := 128*uint64(len(b)) + 16<<10
		for try := 0; ; try++ {
			before := heapAllocBytes()
			_, _ = Decode(b)
			used := heapAllocBytes() - before
			if used <= bound {
				break
			}
			if try == 2 {
				t.Fatalf("decoding %d bytes allocated %d bytes", len(b), used)
			}
		}

		// Skip accepts everything Decode does, and fails where Decode
		// fails for a structural reason (maybe sooner: it counts the
		// values pending in all open containers against the bytes left).
		r := NewReader(b)
		serr := r.Skip()
		switch {
		case err == nil && (serr != nil || r.Remaining() != 0):
			t.Fatalf("Decode accepts % x, Skip says %v with %d left", b, serr, r.Remaining())
		case errors.Is(err, ErrTrailing) && (serr != nil || r.Remaining() == 0):
			t.Fatalf("Decode finds trailing bytes in % x, Skip says %v with %d left", b, serr, r.Remaining())
		case structural(err) && !structural(serr):
			t.Fatalf("Decode(% x) = %v, Skip = %v", b, err, serr)
		}

		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(b) || v != nil {
				t.Fatalf("Decode(% x) = %#v, %v", b, v, err)
			}
			return
		}
		a, aerr := NewAliasingReader(b).ReadValue(MaxDepth)
		if aerr != nil || !same(a, v) {
			t.Fatalf("aliasing Reader = %#v, %v; Decode = %#v", a, aerr, v)
		}
		enc, err := Encode(v)
		if err != nil {
			t.Fatalf("Encode(Decode(% x)) = %v", b, err)
		}
		if n, ok := SizeWithin(v, len(enc)); !ok || n != len(enc) {
			t.Fatalf("SizeWithin = %d, %v; encoding has %d bytes", n, ok, len(enc))
		}
		v2, err := Decode(enc)
		if err != nil || !same(v, v2) {
			t.Fatalf("Decode(Encode(v)) = %#v, %v; v = %#v", v2, err, v)
		}
		enc2, err := Encode(v2)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not canonical: % x then % x", enc, enc2)
		}
		if len(enc) > len(b) {
			// the canonical form is never longer (same forms, shortest headers, float32 widened aside)
			if !bytes.Contains(b, []byte{fmtFloat32}) {
				t.Fatalf("re-encoding grew from %d to %d bytes: % x -> % x", len(b), len(enc), b, enc)
			}
		}
	})
}

// gen builds a value from fuzz bytes: a little program in which each byte
// picks what comes next. It may build values too deep or out of range, to
// exercise the encoder's refusals.
type gen struct {
	b []byte
}

func (g *gen) byte() byte {
	if len(g.b) == 0 {
		return 0
	}
	c := g.b[0]
	g.b = g.b[1:]
	return c
}

func (g *gen) u64() uint64 {
	var p [8]byte
	n := copy(p[:], g.b)
	g.b = g.b[n:]
	return binary.BigEndian.Uint64(p[:])
}

func (g *gen) str() string {
	n := min(int(g.byte()), len(g.b))
	s := string(g.b[:n])
	g.b = g.b[n:]
	return s
}

// value builds a value.
func (g *gen) value() any {
	switch c := g.byte(); c % 14 {
	case 0:
		return nil
	case 1:
		return c&0x80 != 0
	case 2:
		return int64(g.u64())
	case 3:
		return int64(int8(g.byte())) // small values are common
	case 4:
		return math.Float64frombits(g.u64())
	case 5:
		return g.str()
	case 6:
		n := int(g.byte() % 20)
		a := make([]any, 0, n)
		for range n {
			a = append(a, g.value())
		}
		return a
	case 7:
		n := int(g.byte() % 20)
		m := make(map[string]any, n)
		for range n {
			m[g.str()] = g.value()
		}
		return m
	case 8:
		return int(int64(g.u64()))
	case 9:
		return int32(g.u64())
	case 10:
		return g.u64() // may be above 2^63-1
	case 11:
		return math.Float32frombits(uint32(g.u64()))
	case 12:
		return []string{g.str(), g.str()}
	case 13: // a chain of single-element containers: reaches the depth limit fast
		n := int(g.byte())
		v := g.value()
		for range n {
			v = []any{v}
		}
		return v
	}
	panic("unreachable")
}

// depthOf is the most containers nested in one another in v.
func depthOf(v any) int {
	d := 0
	switch v := v.(type) {
	case []string:
		return 1
	case []any:
		for _, x := range v {
			d = max(d, depthOf(x))
		}
	case map[string]any:
		for _, x := range v {
			d = max(d, depthOf(x))
		}
	default:
		return 0
	}
	return d + 1
}

// badUint reports whether v holds a uint64 above 2^63-1.
func badUint(v any) bool {
	switch v := v.(type) {
	case uint64:
		return v > math.MaxInt64
	case []any:
		for _, x := range v {
			if badUint(x) {
				return true
			}
		}
	case map[string]any:
		for _, x := range v {
			if badUint(x) {
				return true
			}
		}
	}
	return false
}

// FuzzRoundTrip: every value the generator builds either encodes, and
// decodes back to itself (in its plain form), or is refused for a reason
// it really has.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte{7, 3, 1, 'a', 2, 0, 0, 0, 0, 0, 0, 1, 0, 1, 'b', 5, 3, 'x', 0xff, 'y', 1, 'c', 6, 4, 3, 0x80, 4, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1, 1, 0, 12, 2, 'p', 'q', 1, 0xfe})
	f.Add([]byte{13, 63, 0})
	f.Add([]byte{13, 64, 0})
	f.Add([]byte{10, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{11, 0x7f, 0xc0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > maxFuzzInput {
			return
		}
		g := &gen{b: data}
		v := g.value()
		depth := depthOf(v)
		tooDeep := depth > MaxDepth
		enc, err := Encode(v)
		n, ok := SizeWithin(v, math.MaxInt)
		if err != nil {
			var ee *EncodeError
			if !errors.As(err, &ee) {
				t.Fatalf("Encode error %v is not an *EncodeError", err)
			}
			switch {
			case errors.Is(err, ErrDepth) && tooDeep, errors.Is(err, ErrRange) && badUint(v):
			default:
				t.Fatalf("Encode refused %#v: %v (depth %d)", v, err, depth)
			}
			if ok || n != -1 {
				t.Fatalf("SizeWithin of an unencodable value = %d, %v", n, ok)
			}
			return
		}
		if tooDeep || badUint(v) {
			t.Fatalf("Encode accepted %#v (depth %d)", v, depth)
		}
		if !ok || n != len(enc) {
			t.Fatalf("SizeWithin = %d, %v; encoding has %d bytes", n, ok, len(enc))
		}
		got, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(%#v)) = %v", v, err)
		}
		if !same(got, plain(v)) {
			t.Fatalf("round trip: %#v became %#v", v, got)
		}
	})
}
