package config

import (
	"fmt"
	"strings"
)

// suggest returns a hint for an unknown key: the known key it differs from
// only in case, else the nearest known key within two edits, else "".
func suggest(key string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(key, k) {
			return fmt.Sprintf(" (keys are case-sensitive; did you mean %q?)", k)
		}
	}
	best, bestDist := "", 3
	lower := strings.ToLower(key)
	for _, k := range known {
		// Half the letters of a short key may not differ: "foo" is not "log".
		if d := editDistance(lower, k); d < bestDist && 2*d <= len(k) {
			best, bestDist = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// adjacent bytes that turn a into b (optimal string alignment distance).
func editDistance(a, b string) int {
	// rows[0..2] are the rows for a[:i-2], a[:i-1] and a[:i].
	rows := [3][]int{make([]int, len(b)+1), make([]int, len(b)+1), make([]int, len(b)+1)}
	for j := range rows[1] {
		rows[1][j] = j
	}
	for i := 1; i <= len(a); i++ {
		older, prev, cur := rows[0], rows[1], rows[2]
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], older[j-2]+1)
			}
		}
		rows = [3][]int{prev, cur, older}
	}
	return rows[1][len(b)]
}
