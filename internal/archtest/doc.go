// Package archtest holds no code: its test enforces the import rules of
// ARCHITECTURE.md, so that breaking them fails the build's tests.
package archtest
