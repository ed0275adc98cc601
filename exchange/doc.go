// Package exchange links agentd processes into one service space over
// NATS: an endpoint either embeds a hub (nats-server, hub.go) and joins it
// in-process, or connects to one (or to any NATS deployment) as a client.
// Services of other processes appear in the local runtime as stand-ins
// (runtime.Agent.NewRemoteService); reports and requests reach them with
// the runtime's ordinary calls. The wire protocol (protocol.go) is
// specified in spec/exchange.md; values are encoded by internal/wire. It
// imports nothing of gopher-lua or luabind.
//
// # Ownership and goroutines
//
// Each endpoint has an agent of the runtime (StopLast, so that what other
// agents do while they stop still goes out; NoWait, so that a slow local
// subscriber never holds up the network). Its owner goroutine keeps the
// endpoint's state: peers and their stand-ins and proxies, forwarded
// requests, the local services that travel, sequence numbers, and
// everything sent. One reader goroutine per endpoint takes every message
// of the endpoint from one channel, in wire order: it checks sessions and
// sequence numbers (its own state), hands reports straight to local
// subscribers (runtime.Service.Forward may run on any goroutine) and posts
// everything else, and the loss of the connection, to the agent, so they
// are handled in the order they arrived. nats.go's handlers only post.
// The map of stand-ins the reader looks reports up in is locked.
//
// Files:
//
//	exchange.go   Exchange: endpoints, the content limit, counters
//	config.go     endpoint configuration and timing
//	endpoint.go   one endpoint: connection, sessions, sending, the reader
//	peers.go      other processes: their stand-ins, registry sync
//	traffic.go    subscriptions, reports and requests across processes
//	protocol.go   messages and their encoding
//	hub.go        the embedded hub: options, auth, client events
//	security.go   TLS, route credentials, open hubs
//	member.go     Member: a Go program in a service space, without Lua
package exchange
