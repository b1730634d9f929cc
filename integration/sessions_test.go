package integration_test

import (
	"net/http"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
)

// TestEndingSessionsClosesStreams: logout, ending a session, ending all
// other sessions and deactivating a user each close the streams of the
// sessions they end with code 4001, and their tokens get 401 at once.
func TestEndingSessionsClosesStreams(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)

		// Logout.
		s := subscribe(t, w.kaiC, "")
		token := w.kaiC.Token()
		if err := w.kaiC.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		wantSessionEnded(t, s)
		wantUnauthorized(t, newClient(t, w.srv.URL, client.WithToken(token)))
		_, err := w.kaiC.Subscribe(ctx, client.SubscribeOptions{})
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)

		// Ending one session from another device.
		phone := login(t, w.srv.URL, "kai@example.com")
		laptop := login(t, w.srv.URL, "kai@example.com")
		phoneS := subscribe(t, phone, "")
		laptopS := subscribe(t, laptop, "")
		phoneID := currentSession(t, phone).ID
		if err := laptop.EndSession(ctx, phoneID); err != nil {
			t.Fatal(err)
		}
		wantSessionEnded(t, phoneS)
		wantUnauthorized(t, phone)
		wantError(t, laptop.EndSession(ctx, phoneID), http.StatusNotFound, atrium.ENotFound)
		wantError(t, laptop.EndSession(ctx, currentSession(t, w.anaC).ID), http.StatusNotFound, atrium.ENotFound)
		w.sync(t, laptopS) // the laptop's stream is still open

		// Ending all the others.
		tablet := login(t, w.srv.URL, "kai@example.com")
		tabletS := subscribe(t, tablet, "")
		if n := call(laptop.EndOtherSessions(ctx)).must(t); n != 1 {
			t.Fatalf("ended %d other sessions, want 1", n)
		}
		wantSessionEnded(t, tabletS)
		wantUnauthorized(t, tablet)
		if list := call(laptop.ListSessions(ctx, client.ListOptions{})).must(t); len(list.Items) != 1 || !list.Items[0].Current {
			t.Fatalf("sessions left: %+v", list.Items)
		}

		// Deactivation wipes and ends every session.
		call(w.anaC.UpdateUser(ctx, w.kai.ID, client.UpdateUserInput{Status: client.String(atrium.StatusDeactivated)})).must(t)
		wantWiped(t, laptopS)
		wantUnauthorized(t, laptop)
		_, err = newClient(t, w.srv.URL).Login(ctx, "kai@example.com", password, "")
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)
	})
}

// TestChangingPasswordEndsOtherSessions: a password change ends every other
// session of the user, closing their streams, and keeps the current one.
func TestChangingPasswordEndsOtherSessions(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)
		other := login(t, w.srv.URL, "kai@example.com")
		otherS := subscribe(t, w.kaiC, "")
		currentS := subscribe(t, other, "")

		err := other.ChangePassword(ctx, "not my password", "a brand new password")
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
		err = other.ChangePassword(ctx, password, "short")
		wantError(t, err, http.StatusBadRequest, atrium.EInvalid)
		w.sync(t, otherS, currentS) // refused changes end nothing

		if err := other.ChangePassword(ctx, password, "a brand new password"); err != nil {
			t.Fatal(err)
		}
		wantSessionEnded(t, otherS)
		wantUnauthorized(t, w.kaiC)
		w.sync(t, currentS)
		list := call(other.ListSessions(ctx, client.ListOptions{})).must(t)
		if len(list.Items) != 1 || !list.Items[0].Current {
			t.Fatalf("sessions left: %+v", list.Items)
		}
		_, err = newClient(t, w.srv.URL).Login(ctx, "kai@example.com", password, "")
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)
		if _, err := newClient(t, w.srv.URL).Login(ctx, "kai@example.com", "a brand new password", ""); err != nil {
			t.Fatal(err)
		}
	})
}

// currentSession returns the session c is signed in with.
func currentSession(t *testing.T, c *client.Client) *atrium.Session {
	t.Helper()
	for s, err := range client.All(func(cursor string) (*client.Page[*atrium.Session], error) {
		return c.ListSessions(ctxT(t), client.ListOptions{Cursor: cursor})
	}) {
		if err != nil {
			t.Fatal(err)
		}
		if s.Current {
			return s
		}
	}
	t.Fatal("no current session")
	return nil
}
