package integration_test

import (
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/atrium-dev/atrium"
	"github.com/atrium-dev/atrium/client"
	"github.com/atrium-dev/atrium/client/cache"
)

// TestRemoteWipe: an administrator sees a client's devices, wipes one;
// its open stream gets the wipe command, the SDK erases its cache and
// confirms, and the administrator sees the wipe confirmed. A device that
// never reconnects cannot get its key back, so its cache stays unreadable.
// Remote logout ends a device's session.
func TestRemoteWipe(t *testing.T) {
	eachDialect(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect)
		ctx := ctxT(t)

		phone := newClient(t, w.srv.URL)
		res := call(phone.Login(ctx, "kai@example.com", password, "phone")).must(t)
		key := call(phone.DeviceKey(ctx)).must(t)
		if len(key) != 32 || res.DeviceKey == "" {
			t.Fatalf("device key %d bytes, login gave %q", len(key), res.DeviceKey)
		}
		phoneCache, err := cache.Open(filepath.Join(t.TempDir(), "phone"), key)
		if err != nil {
			t.Fatal(err)
		}
		if err := phoneCache.Put("lobby", []byte("the deal's terms")); err != nil {
			t.Fatal(err)
		}
		phoneS := subscribe(t, phone, "")

		tablet := newClient(t, w.srv.URL)
		call(tablet.Login(ctx, "kai@example.com", password, "tablet")).must(t)
		tabletKey := call(tablet.DeviceKey(ctx)).must(t)
		tabletDir := filepath.Join(t.TempDir(), "tablet")
		tabletCache, _ := cache.Open(tabletDir, tabletKey)
		tabletCache.Put("lobby", []byte("more terms"))

		devices := call(w.anaC.ListDevices(ctx, w.kai.ID, client.ListOptions{})).must(t)
		ids := map[string]string{}
		for _, d := range devices.Items {
			ids[d.DeviceName] = d.ID
		}
		if ids["phone"] == "" || ids["tablet"] == "" {
			t.Fatalf("devices: %+v", devices.Items)
		}

		// The phone is connected: it is told at once.
		s := call(w.anaC.WipeDevice(ctx, w.kai.ID, ids["phone"])).must(t)
		if s.Wipe == nil || s.Wipe.Status != atrium.WipePending {
			t.Fatalf("after asking: %+v", s.Wipe)
		}
		wantWiped(t, phoneS)
		_, err = phone.Me(ctx) // nothing else is served to a wiped device
		wantError(t, err, http.StatusUnauthorized, atrium.EUnauthorized)
		if err := phone.Wipe(ctx, phoneCache); err != nil {
			t.Fatal(err)
		}
		if _, err := phoneCache.Get("lobby"); !errors.Is(err, cache.ErrNotFound) {
			t.Fatalf("the phone's cache after the wipe: %v", err)
		}
		var confirmed *atrium.Session
		for _, d := range call(w.anaC.ListDevices(ctx, w.kai.ID, client.ListOptions{})).must(t).Items {
			if d.ID == ids["phone"] {
				confirmed = d
			}
		}
		if confirmed == nil || confirmed.Wipe == nil || confirmed.Wipe.Status != atrium.WipeConfirmed || confirmed.Wipe.ConfirmedAt == nil {
			t.Fatalf("the phone's wipe as the administrator sees it: %+v", confirmed)
		}

		// The tablet is offline: its key is destroyed at once.
		call(w.anaC.WipeDevice(ctx, w.kai.ID, ids["tablet"])).must(t)
		if _, err := tablet.DeviceKey(ctx); err == nil {
			t.Fatal("a wiped device got its key back")
		}
		// Restarted, the tablet has no key: any other key reads nothing.
		guess, _ := cache.Open(tabletDir, make([]byte, 32))
		if _, err := guess.Get("lobby"); !errors.Is(err, cache.ErrUnreadable) {
			t.Fatalf("the tablet's cache without its key: %v", err)
		}
		_, err = w.anaC.WipeDevice(ctx, w.kai.ID, ids["tablet"])
		wantError(t, err, http.StatusNotFound, atrium.ENotFound) // asked already
		tabletS, err := tablet.Subscribe(ctx, client.SubscribeOptions{})
		if err == nil {
			wantWiped(t, tabletS)
		} else if !errors.Is(err, client.ErrDeviceWiped) {
			t.Fatalf("the tablet reconnecting: %v", err)
		}

		// Remote logout, and the refusals.
		laptop := login(t, w.srv.URL, "kai@example.com")
		laptopS := subscribe(t, laptop, "")
		laptopID := currentSession(t, laptop).ID
		err = w.kaiC.LogoutDevice(ctx, w.ana.ID, currentSession(t, w.anaC).ID)
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
		if err := w.anaC.LogoutDevice(ctx, w.kai.ID, laptopID); err != nil {
			t.Fatal(err)
		}
		wantSessionEnded(t, laptopS)
		wantUnauthorized(t, laptop)
		_, err = w.kaiC.ListDevices(ctx, w.ana.ID, client.ListOptions{})
		wantError(t, err, http.StatusForbidden, atrium.EForbidden)
		// Kai's own session and the tablet, which never confirmed its wipe.
		if n := call(w.anaC.LogoutAllDevices(ctx, w.kai.ID)).must(t); n != 2 {
			t.Fatalf("logged out %d devices, want 2", n)
		}
		wantUnauthorized(t, w.kaiC)
	})
}
