package subject

import "testing"

var benchCases = []struct {
	name, pattern, subject string
}{
	{"literal", "system.time", "system.time"},
	{"prefix", "system.*", "system.time"},
	{"suffix", "*.time", "system.time"},
	{"stars", "a*b*c", "aXXXXbYYYYc"},
	{"general", "a*b?c*", "aXXXXbYcZZZZ"},
	{"miss", "a*b?c*", "aXXXXbXXXXbXXXXbXXXX"},
}

func BenchmarkMatch(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Match(bc.pattern, bc.subject)
			}
		})
		b.Run(bc.name+"/compiled", func(b *testing.B) {
			p := Compile(bc.pattern)
			b.ReportAllocs()
			for b.Loop() {
				p.Match(bc.subject)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Compile("a*b*c")
	}
}
