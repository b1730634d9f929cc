// Package atrium is the vocabulary of Atrium, a self-hosted secure
// client-engagement platform: the domain types (organisations, users,
// binders, members, messages, sessions, events, audit entries), their
// validation, the error type with its stable codes, the actor carried in a
// request's context, and the pure policy functions that decide who may do
// what.
//
// It depends on the standard library only. Every other package (the store,
// the use cases in app, the HTTP API, the SDK) speaks in these types.
package atrium
