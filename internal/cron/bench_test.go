package cron

import (
	"testing"
	"time"
)

var benchSpecs = []struct{ name, spec string }{
	{"every15", "*/15 * * * *"},
	{"weekdays", "30 9-17 * * mon-fri"},
	{"dom_or_dow", "0 0 13 * fri"},
	{"leapday", "0 0 29 2 *"},
	{"list", "0,10,20,30,40,50 */2 1-15 jan,apr,jul,oct *"},
}

func BenchmarkParse(b *testing.B) {
	for _, bs := range benchSpecs {
		b.Run(bs.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(bs.spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNext(b *testing.B) {
	from := time.Date(2026, 3, 1, 10, 7, 0, 0, time.UTC)
	for _, bs := range benchSpecs {
		s, err := Parse(bs.spec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bs.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Next(from)
			}
		})
	}
}

func BenchmarkNextNewYork(b *testing.B) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Skip(err)
	}
	from := time.Date(2026, 3, 1, 10, 7, 0, 0, loc)
	for _, bs := range benchSpecs {
		s, err := Parse(bs.spec)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bs.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Next(from)
			}
		})
	}
}
