// Package wire encodes agentd's plain values in MessagePack
// (https://github.com/msgpack/msgpack/blob/master/spec.md) and decodes
// them, for the messages processes exchange. It is written for this value
// set alone: no reflection, no allocation when encoding into a reused
// buffer, and a decoder that bounds its work and memory by its input.
//
// # Values
//
// Plain data is nil, bool, int64, float64, string (any bytes), []any and
// map[string]any, nested. The msgpack forms below are the "format names"
// of the msgpack specification.
//
// # Encoding rules
//
// agentd writes every value in exactly one way, so equal values have equal
// encodings:
//
//   - nil is nil (0xc0); false and true are 0xc2 and 0xc3.
//   - An integer (-2^63 … 2^63-1) takes the shortest form that holds it:
//     positive fixint for 0 … 127, negative fixint for -32 … -1, else
//     uint 8, uint 16, uint 32 or uint 64 for a positive value and int 8,
//     int 16, int 32 or int 64 for a negative one.
//   - A float is always float 64 (0xcb and 8 bytes, big-endian IEEE 754),
//     bit for bit: NaN payloads, infinities and -0 survive. A float with
//     an integral value stays a float: 3.0 and 3 are different values.
//     (Lua numbers are all floats, and agentd's Lua binding sends the
//     integral ones within ±2^53 as integers, so a number a script sends
//     arrives as the number it sent.)
//   - A string is a str with the shortest header that holds its length
//     (fixstr up to 31 bytes, str 8, str 16, str 32). Its bytes are the
//     string's bytes, unchanged and unchecked: unlike the msgpack
//     specification's advice, a str is not necessarily valid UTF-8,
//     because Lua strings are byte strings. A receiver that needs text
//     must expect invalid UTF-8.
//   - An array is fixarray, array 16 or array 32 (shortest), then its
//     elements in order.
//   - A map is fixmap, map 16 or map 32 (shortest), then its entries, each
//     a str key followed by the value, sorted by key in increasing
//     byte-wise order. Readers must not depend on the order.
//   - Arrays and maps nest at most MaxDepth (64) levels: a container
//     inside 64 enclosing containers is not written.
//   - Lengths are at most 2^32-1 (MaxLen).
//
// AppendValue writes no other form: no bin, no float 32, no ext. The
// primitives (AppendBytes, AppendUint above 2^63-1) can, for protocol
// fields that need them.
//
// # Decoding rules
//
// agentd reads any well-formed msgpack value of the forms above, written
// by any encoder, and normalises it:
//
//   - every integer form, shortest or not, becomes an int64; an unsigned
//     value above 2^63-1 is refused (ErrRange);
//   - float 32 is widened to float64; float 64 is read bit for bit;
//   - str and bin both become a string, byte for byte;
//   - an array becomes a []any, a map a map[string]any; a map key must be
//     a str or a bin (ErrType otherwise), and a key may occur only once
//     (ErrDuplicateKey);
//   - the ext formats (fixext 1 … 16, ext 8 … 32, and so the timestamp
//     type) are refused (ErrUnsupported), and so is the never-used byte
//     0xc1 (ErrFormat);
//   - a container inside MaxDepth enclosing containers is refused
//     (ErrDepth), checked before the container is read;
//   - every length is checked against the bytes that remain before
//     anything is allocated for it: a string needs its length in bytes,
//     an array at least one byte per element, a map at least two per entry
//     (ErrTruncated). Memory use is therefore proportional to the input;
//   - Decode reads exactly one value and refuses bytes after it
//     (ErrTrailing).
//
// # Sizes
//
// SizeWithin computes the length of a value's encoding without encoding
// it, stopping as soon as it passes a limit, so that a sender can refuse
// content too large for a message before building it. IntSize,
// StringHeaderSize, ArrayHeaderSize, MapHeaderSize, BytesHeaderSize and the
// Size constants give the parts, for bounding an envelope around content.
//
// # Protocol messages
//
// The Append functions write single items (AppendMapHeader followed by
// keys and values, AppendString, AppendInt, ...) and a Reader reads them
// back (ReadMapLen, ReadString, ReadInt, PeekKind, Skip for unknown
// fields, ReadValue for content), so envelopes are built and parsed
// without reflection or intermediate maps.
//
// # Errors
//
// Nothing a peer sends makes this package panic. Decoding errors are
// *DecodeError, carrying the byte offset of the offending value or header;
// encoding errors are *EncodeError, carrying the path to the offending part
// of the value in Lua's notation (".items[3]", counting from 1). Both wrap
// one of the Err variables for errors.Is.
//
// # Concurrency and ownership
//
// The package has no goroutines and no mutable state: its functions may be
// called from any goroutine. A Reader belongs to one goroutine at a time.
// Values handed to AppendValue or SizeWithin are only read. Decoded values
// are fresh and owned by the caller; their strings are copies of the input,
// except from a Reader made by NewAliasingReader, whose strings share the
// input's memory (which must then never change). ReadBytes always returns
// a sub-slice of the input.
package wire
