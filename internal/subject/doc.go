// Package subject matches report subjects against subscription patterns.
//
// A pattern is a string in which:
//
//   - '*' matches any run of characters, possibly empty; dots are ordinary
//     characters, so "system.*" matches "system.time" and "system.a.b";
//   - '?' matches exactly one character;
//   - every other character matches itself, case-sensitively.
//
// The whole subject must match: "system" does not match "system.time", and
// "system.*" does not match "system". There is no escape character, so a
// pattern cannot match a literal '*' or '?' except through a wildcard.
//
// A character is one UTF-8 encoded rune. A byte that is not part of a valid
// UTF-8 encoding counts as one character of its own, both in patterns and in
// subjects, so every string has a well-defined sequence of characters and
// matching never fails or panics on malformed input.
//
// Match tests one pattern once. A subscriber that keeps a pattern should
// Compile it: a Pattern picks a specialised matcher (string equality, prefix,
// suffix, ordered substring search) when the pattern's shape allows, and
// falls back to the general matcher otherwise. Both run in time roughly
// proportional to len(pattern)+len(subject) in the common cases, never
// exponential, and neither allocates. A Pattern is immutable and safe for
// concurrent use.
package subject
