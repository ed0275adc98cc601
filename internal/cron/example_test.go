package cron_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/agentd/agentd/internal/cron"
)

func ExampleParse() {
	s, err := cron.Parse("*/15 9-17 * * mon-fri")
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 1, 2, 16, 50, 0, 0, time.UTC) // a Friday
	for range 3 {
		at = s.Next(at)
		fmt.Println(at.Format("Mon 2006-01-02 15:04"))
	}
	// Output:
	// Fri 2026-01-02 17:00
	// Fri 2026-01-02 17:15
	// Fri 2026-01-02 17:30
}

func ExampleParse_errors() {
	for _, spec := range []string{"61 * * * *", "* * * *", "0 0 31 2 *"} {
		_, err := cron.Parse(spec)
		fmt.Println(err, errors.Is(err, cron.ErrNeverFires))
	}
	// Output:
	// cron: minute field "61": value out of range 0-59 false
	// cron: expected 5 fields, got 4 in "* * * *" false
	// cron: "0 0 31 2 *" never fires: day-of-month "31" does not occur in month "2" true
}
