// Package bench measures an Atrium server from the outside: how many
// messages it accepts per second, how much CPU each costs the server, how
// fast a message reaches the members listening on the event stream, and how
// much memory an idle event stream holds.
//
// Run starts the atrium binary as a separate `atrium serve` process on a
// free loopback port, with a temporary data directory (and, for PostgreSQL,
// a temporary database), so that the CPU time and memory read from /proc
// belong to the server alone. It bootstraps the organisation and users with
// the `atrium org create` and `atrium user create` commands, signs every
// simulated user in once, and then drives load over real HTTP and
// WebSocket connections, phase by phase:
//
//   - posting: closed-loop clients, each with its own session, post as fast
//     as the server answers, into one shared binder or into one binder each;
//   - delivery: open-loop posts at a fixed rate into a binder whose members
//     listen on the event stream; each message carries its send time;
//   - idle: many event streams are opened and left idle, and the server's
//     memory is read before and after, each time right after a garbage
//     collection.
//
// The load generator runs on the same machine as the server, so both share
// its cores; every phase also reports how busy the whole machine was, so a
// result taken on a loaded machine can be told apart.
package bench
