package wire

import "math"

// Size returns the length of AppendValue's encoding of v, or its error.
func Size(v any) (int, error) {
	n, ok := SizeWithin(v, math.MaxInt)
	if !ok {
		_, err := AppendValue(nil, v) // rare: let the encoder say why
		return 0, err
	}
	return n, nil
}

// SizeWithin returns the length of AppendValue's encoding of v if it is
// at most limit. Otherwise ok is false and it stops as soon as the size
// passes limit, without walking the rest of v: n is then greater than
// limit (but not the full size), or -1 if v cannot be encoded (AppendValue
// says why). It does not allocate.
func SizeWithin(v any, limit int) (n int, ok bool) {
	n = sizeWithin(v, MaxDepth, limit)
	return n, n >= 0 && n <= limit
}

// sizeWithin returns v's encoded size, a number above budget once the
// size is known to pass it, or -1 if v cannot be encoded.
func sizeWithin(v any, depth, budget int) int {
	switch v := v.(type) {
	case nil, bool:
		return 1
	case int64:
		return IntSize(v)
	case float64, float32:
		return FloatSize
	case string:
		if uint64(len(v)) > MaxLen {
			return -1
		}
		return StringHeaderSize(len(v)) + len(v)
	case map[string]any:
		if depth <= 0 || uint64(len(v)) > MaxLen {
			return -1
		}
		n := MapHeaderSize(len(v))
		for k, x := range v {
			if uint64(len(k)) > MaxLen {
				return -1
			}
			n += StringHeaderSize(len(k)) + len(k)
			if n > budget {
				return n
			}
			m := sizeWithin(x, depth-1, budget-n)
			if m < 0 {
				return -1
			}
			if n += m; n > budget {
				return n
			}
		}
		return n
	case []any:
		if depth <= 0 || uint64(len(v)) > MaxLen {
			return -1
		}
		n := ArrayHeaderSize(len(v))
		for _, x := range v {
			m := sizeWithin(x, depth-1, budget-n)
			if m < 0 {
				return -1
			}
			if n += m; n > budget {
				return n
			}
		}
		return n
	case int:
		return IntSize(int64(v))
	case int32:
		return IntSize(int64(v))
	case uint64:
		if v > math.MaxInt64 {
			return -1
		}
		return UintSize(v)
	case []string:
		if depth <= 0 || uint64(len(v)) > MaxLen {
			return -1
		}
		n := ArrayHeaderSize(len(v))
		for _, s := range v {
			if uint64(len(s)) > MaxLen {
				return -1
			}
			if n += StringHeaderSize(len(s)) + len(s); n > budget {
				return n
			}
		}
		return n
	}
	return -1
}
