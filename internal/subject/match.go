package subject

import "unicode/utf8"

// Match reports whether subject matches pattern.
//
// It is equivalent to Compile(pattern).Match(subject) but does not build a
// Pattern, so it never allocates.
func Match(pattern, subject string) bool {
	if !hasWildcard(pattern) {
		return pattern == subject
	}
	return matchGeneral(pattern, subject)
}

// hasWildcard reports whether pattern contains '*' or '?'. A plain loop
// beats strings.ContainsAny on the short strings subjects usually are.
func hasWildcard(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		if c := pattern[i]; c == '*' || c == '?' {
			return true
		}
	}
	return false
}

// matchGeneral is the iterative glob matcher. It walks pattern and subject
// character by character and remembers only the most recent '*': on a
// mismatch it lets that star absorb one more subject character and retries
// from just after the star. Earlier stars never need revisiting, because a
// later star can absorb anything an earlier one could, so the worst case is
// O(len(pattern)*len(subject)) and the usual case is linear.
func matchGeneral(pattern, subject string) bool {
	p, s := 0, 0         // current byte offsets, always on character boundaries
	star, retry := -1, 0 // offset of the last '*' seen, and where its next attempt starts
	for s < len(subject) {
		if p < len(pattern) {
			switch pattern[p] {
			case '*':
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true // a trailing star takes the rest of the subject
				}
				star, retry = p-1, s
				continue
			case '?':
				p++
				s += charLen(subject, s)
				continue
			default:
				if n := matchChar(pattern, p, subject, s); n > 0 {
					p += n
					s += n
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		retry += charLen(subject, retry)
		p, s = star+1, retry
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// charLen returns the length in bytes of the character starting at str[i].
// An invalid byte is a character of length 1.
func charLen(str string, i int) int {
	if str[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(str[i:])
	return n
}

// matchChar reports whether the literal pattern character at pattern[p]
// equals the subject character at subject[s]. It returns the length in bytes
// of that character (the same in both strings), or 0 when they differ.
//
// Characters are equal when their bytes are equal and both decode to the
// same length: a stray byte 0xC3 in the pattern must not match the first
// byte of "é" in the subject.
func matchChar(pattern string, p int, subject string, s int) int {
	pc := pattern[p]
	if pc < utf8.RuneSelf {
		if subject[s] == pc {
			return 1
		}
		return 0
	}
	pn := charLen(pattern, p)
	if sn := charLen(subject, s); sn != pn || pattern[p:p+pn] != subject[s:s+sn] {
		return 0
	}
	return pn
}
