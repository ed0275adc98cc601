//go:build !linux

package pack

// exchange swaps the folders a and b, in two renames.
func exchange(a, b string) error { return exchangeByRenames(a, b) }
