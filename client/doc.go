// Package client is the Go SDK for Atrium's HTTP API (under /api/v1) and
// its WebSocket event stream.
//
// A Client holds the server's address and a session token:
//
//	c, err := client.New("https://atrium.example.com")
//	if err != nil { … }
//	if _, err := c.Login(ctx, "ana@example.com", password, "build bot"); err != nil { … }
//	b, err := c.CreateBinder(ctx, client.CreateBinderInput{Title: "Tax return 2026"})
//	m, err := c.PostMessage(ctx, b.ID, client.PostMessageInput{Text: "Hello @kai@example.com"})
//
// Results are the domain types of the root atrium package (atrium.Binder,
// atrium.Message, atrium.Member, atrium.User, atrium.Session). A refusal
// by the server is an *Error carrying the HTTP status and Atrium's stable
// error code; match it with errors.As.
//
// # Retries and idempotency
//
// Reads (GET) and the POSTs that create objects (binders, messages,
// members, users) are sent again after a network failure or a 502, 503 or
// 504 answer. Every creating POST carries an Idempotency-Key, the caller's
// (the IdempotencyKey field of its input) or one the SDK makes up, and the
// same key is sent on every attempt, so the server creates the object at
// most once however often the request is repeated. Other writes (PATCH,
// DELETE, login, logout, password changes) are sent once.
//
// # Events
//
// Subscribe opens the event stream. It delivers every event the user may
// see, in order, each exactly once: after a dropped connection, a server
// restart or a "too slow" close it reconnects with backoff and resumes
// after the last event it delivered. It ends when the session ends (close
// code 4001), when the server refuses the handshake with a 4xx status, or
// when the caller closes it.
package client
