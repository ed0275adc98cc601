package wire_test

import (
	"errors"
	"fmt"

	"github.com/agentd/agentd/internal/wire"
)

func ExampleEncode() {
	b, err := wire.Encode(map[string]any{"seq": int64(300), "ok": true, "v": 1.5})
	fmt.Printf("% x %v\n", b, err)
	v, err := wire.Decode(b)
	fmt.Println(v, err)
	_, err = wire.Encode(map[string]any{"items": []any{int64(1), make(chan int)}})
	fmt.Println(err)
	// Output:
	// 83 a2 6f 6b c3 a3 73 65 71 cd 01 2c a1 76 cb 3f f8 00 00 00 00 00 00 <nil>
	// map[ok:true seq:300 v:1.5] <nil>
	// value.items[2]: chan int cannot be encoded
}

// An envelope is written with the primitives and read back field by field.
func ExampleReader() {
	var b []byte
	b = wire.AppendArrayHeader(b, 3)
	b = wire.AppendUint(b, 7)                    // sequence number
	b = wire.AppendString(b, "sensor.temp")      // subject
	b, _ = wire.AppendValue(b, []any{21.5, "C"}) // content

	r := wire.NewReader(b)
	n, _ := r.ReadArrayLen()
	seq, _ := r.ReadUint()
	subject, _ := r.ReadString()
	content, _ := r.ReadValue(wire.MaxDepth)
	fmt.Println(n, seq, subject, content, r.Remaining())
	// Output:
	// 3 7 sensor.temp [21.5 C] 0
}

func ExampleSizeWithin() {
	const limit = 64
	small := map[string]any{"name": "sensor"}
	big := map[string]any{"blob": string(make([]byte, 1000))}
	n, ok := wire.SizeWithin(small, limit)
	fmt.Println(n, ok)
	n, ok = wire.SizeWithin(big, limit)
	fmt.Println(n > limit, ok)
	// Output:
	// 13 true
	// true false
}

func ExampleDecodeError() {
	_, err := wire.Decode([]byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01})
	var de *wire.DecodeError
	fmt.Println(errors.As(err, &de), de.Offset, errors.Is(err, wire.ErrTruncated))
	fmt.Println(err)
	// Output:
	// true 0 true
	// wire: at byte 0: array of 4294967295 elements, 1 bytes left
}
