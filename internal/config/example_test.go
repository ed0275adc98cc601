package config_test

import (
	"fmt"

	"github.com/agentd/agentd/internal/config"
)

func ExampleDecode() {
	src := `[agentd]
hot_reload = "yes"
request_timeout = 30

[[exchange]]
role = "client"
`
	_, err := config.Decode("config.toml", []byte(src))
	fmt.Println(err)
	// Output:
	// config.toml:2: agentd.hot_reload: expected a boolean, got string "yes"
	// config.toml:3: agentd.request_timeout: bare number 30 is not a duration; write "30s"
	// config.toml:5: exchange[1].connect: required key is missing: a client needs at least one URL, e.g. ["nats://127.0.0.1:11111"]
}
