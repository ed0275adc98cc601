package wire

import (
	"strconv"
	"testing"
)

// benchReport is a typical report's content, the same as luabind's
// benchContent.
var benchReport = map[string]any{"seq": int64(123456), "name": "sensor", "ok": true, "value": 1.5, "count": int64(123456)}

// benchArray holds 100 mixed elements: small and large integers, floats,
// short strings.
var benchArray = func() []any {
	a := make([]any, 100)
	for i := range a {
		switch i % 4 {
		case 0:
			a[i] = int64(i)
		case 1:
			a[i] = int64(i) * 1_000_003
		case 2:
			a[i] = float64(i) + 0.25
		case 3:
			a[i] = "item-" + strconv.Itoa(i)
		}
	}
	return a
}()

var benchValues = []struct {
	name string
	v    any
}{
	{"report5", benchReport},
	{"array100", benchArray},
}

func BenchmarkAppendValue(b *testing.B) {
	for _, bv := range benchValues {
		b.Run(bv.name, func(b *testing.B) {
			buf := make([]byte, 0, 4096)
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if buf, err = AppendValue(buf[:0], bv.v); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, bv := range benchValues {
		b.Run(bv.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Encode(bv.v); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, bv := range benchValues {
		enc, err := Encode(bv.v)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bv.name, func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bv.name+"/aliasing", func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NewAliasingReader(enc).ReadValue(MaxDepth); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSizeWithin(b *testing.B) {
	for _, bv := range benchValues {
		b.Run(bv.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := SizeWithin(bv.v, 1<<20); !ok {
					b.Fatal("too large")
				}
			}
		})
	}
}

func BenchmarkSkip(b *testing.B) {
	for _, bv := range benchValues {
		enc, err := Encode(bv.v)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bv.name, func(b *testing.B) {
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				if err := NewReader(enc).Skip(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
