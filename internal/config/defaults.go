package config

import "time"

// Limits checked by Decode.
const (
	maxMailboxSize    = 1 << 24 // a sanity bound: a queue this long is a backlog, not a buffer
	maxReloadDebounce = 10 * time.Second
	minAllocLimit     = 1 << 10 // smaller would refuse ordinary strings
	minMemoryLimit    = 1 << 20 // smaller is below what the daemon itself needs
)

// Default returns the configuration that applies where config.toml is
// silent. Every default is set here; Decode starts from it. Relative paths
// (PacksDir) are left relative: Decode resolves them against the file's folder.
func Default() *Config {
	return &Config{
		Agentd: Agentd{
			PacksDir:       "packs",
			RequestTimeout: 30 * time.Second,
			ShutdownDelay:  1 * time.Second,
			CallbackLimit:  5 * time.Second,
			AllocLimit:     64 << 20,
			MemoryLimit:    4 << 30,
			ReloadDrain:    2 * time.Second,
			ReloadDebounce: 100 * time.Millisecond,
			MailboxSize:    10000,
		},
		Log: Log{
			Level:  "info",
			Format: "text",
		},
		Tables: map[string]map[string]any{},
	}
}

// defaultExchange returns an [[exchange]] entry with the defaults of role.
func defaultExchange(role string) Exchange {
	switch role {
	case RoleServer:
		return Exchange{Role: role, Listen: "127.0.0.1:11111"}
	case RoleClient:
		return Exchange{Role: role, Retry: 5 * time.Second}
	}
	return Exchange{Role: role}
}
