package subject_test

import (
	"fmt"

	"github.com/agentd/agentd/internal/subject"
)

func ExampleMatch() {
	fmt.Println(subject.Match("system.*", "system.time"))
	fmt.Println(subject.Match("system.*", "system"))
	fmt.Println(subject.Match("*.time", "host.system.time"))
	fmt.Println(subject.Match("sensor.?", "sensor.12"))
	// Output:
	// true
	// false
	// true
	// false
}

func ExamplePattern() {
	p := subject.Compile("price.*.usd")
	for _, s := range []string{"price.gold.usd", "price.gold.eur", "price..usd"} {
		fmt.Println(s, p.Match(s))
	}
	fmt.Println(p.Literal(), subject.Compile("price.gold.usd").Literal())
	// Output:
	// price.gold.usd true
	// price.gold.eur false
	// price..usd true
	// false true
}
