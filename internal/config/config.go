package config

import "time"

// Config is a decoded and validated config.toml. Paths in it are absolute,
// resolved against Dir, except where noted.
type Config struct {
	File string // absolute path of the config file ("" when decoded from bytes without a name)
	Dir  string // folder relative paths resolve against

	Agentd   Agentd
	Log      Log
	Exchange []Exchange
	Sandbox  Sandbox

	// Tables holds the [config.NAME] tables, one per script or pack name.
	// Values are bool, int64, float64, string, []any or map[string]any;
	// datetimes are RFC 3339 strings. Never nil after Default or Decode.
	Tables map[string]map[string]any

	name string // the file name as given, for messages
}

// Agentd is the [agentd] table.
type Agentd struct {
	Scripts        []Script
	PacksDir       string   // absolute after Decode; Default has it relative
	Packs          []Script // pack folders run in place, besides those installed in PacksDir
	HotReload      bool
	RequestTimeout time.Duration // > 0
	ShutdownDelay  time.Duration
	CallbackLimit  time.Duration // 0: no limit
	AllocLimit     int64         // bytes, >= 1 KiB: the largest value one Lua builtin call may build
	MemoryLimit    int64         // bytes; 0: no limit
	ReloadDrain    time.Duration
	ReloadDebounce time.Duration // > 0 and <= 10s
	MailboxSize    int           // >= 1
}

// Script is one entry of agentd.scripts (a file, a folder or a glob) or of
// agentd.packs (a pack folder).
type Script struct {
	Spec string // as written in the file
	Path string // absolute; for a glob, the absolute pattern
	Line int    // line of the entry in the config file, 0 if unknown
}

// Log is the [log] table.
type Log struct {
	Level  string // debug, info, notice, warning or error
	Format string // text or json
	File   string // absolute path; "" means stderr
}

// Roles of an [[exchange]] entry.
const (
	RoleServer = "server" // embeds the hub and listens
	RoleClient = "client" // connects to a hub
)

// Exchange is one [[exchange]] entry.
type Exchange struct {
	Role     string   // RoleServer or RoleClient
	Listen   string   // server only: host:port
	Connect  []string // client only: nats:// or tls:// URLs, at least one
	Group    string   // "" or 1-64 of A-Z a-z 0-9 - _, not starting with _ (ValidGroup)
	Token    string
	Retry    time.Duration // client only: 0 means one attempt and no reconnection
	TLS      TLS
	Cluster  Cluster // server only
	Insecure bool    // server only: may listen beyond loopback without a token or client certificates
	Line     int     // line of the [[exchange]] header, 0 if unknown
}

// TLS is an [exchange.tls] table; the paths are absolute, "" when absent.
type TLS struct {
	Cert, Key, CA string
	// Lines where cert, key and ca are written (0 if unknown), for the
	// errors of files that cannot be used (ExchangeError).
	CertLine, KeyLine, CALine int
}

// Cluster is an [exchange.cluster] table: a hub's routes to other hubs.
// Listen is "" when the hub does not cluster.
type Cluster struct {
	Name   string   // the cluster's name; "" lets the exchange choose its default
	Listen string   // host:port where this hub takes routes from other hubs
	Routes []string // nats-route://host:port URLs of other hubs' cluster addresses
}

// Sandbox is the [sandbox] table.
type Sandbox struct {
	AllowIO   bool // io library, os.remove and os.rename
	AllowExec bool // os.execute and io.popen
}
