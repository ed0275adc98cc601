package exchange

import "time"

// Endpoint roles.
const (
	RoleServer = "server" // embeds a hub (nats-server) and joins it in-process
	RoleClient = "client" // connects to a hub, or to any NATS deployment
)

// EndpointConfig configures one endpoint of the exchange: one connection
// to a service space (one NATS deployment and one group).
type EndpointConfig struct {
	Role  string // RoleServer or RoleClient
	Group string // exchange group ("" is the default group)

	// Server: the address the hub listens on (host:port; port 0 picks one).
	Listen string
	// Server: clustering with other hubs (NATS routes).
	Cluster ClusterConfig

	// Client: the URLs to connect to (nats:// or tls://).
	Connect []string
	// Client: the delay between connection attempts, forever; 0 means a
	// single attempt, and no reconnection after a loss.
	Retry time.Duration

	// Token is the shared secret clients present and a hub requires.
	Token string
	// TLS: cert and key (a hub's, or a client's certificate), ca (to
	// verify the other end).
	TLS TLSConfig
	// Insecure lets a hub listen on a non-loopback address without a
	// token or TLS client verification.
	Insecure bool
}

// TLSConfig names PEM files.
type TLSConfig struct {
	Cert, Key, CA string
}

// ClusterConfig clusters a hub with others.
type ClusterConfig struct {
	Name   string   // cluster name; hubs of one cluster must agree
	Listen string   // host:port for routes ("" : no clustering)
	Routes []string // URLs of other hubs' cluster addresses (nats-route://host:port)
}

// Liveness timing (see spec/exchange.md).
const (
	// HeartbeatInterval is how often a process says it is alive.
	HeartbeatInterval = time.Second
	// HeartbeatTimeout: a peer not heard from for this long is gone.
	HeartbeatTimeout = 3500 * time.Millisecond
	// hubPingInterval and hubMaxPingsOut make a hub find a hung client in
	// about three seconds.
	hubPingInterval = time.Second
	hubMaxPingsOut  = 2
)
