package client

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/atrium-dev/atrium"
)

// DeviceKey returns the session's device key, which encrypts the device's
// local cache. The server destroys it at logout and when the device is
// asked to wipe itself; it then answers 410 (or 401), and whatever was
// cached under it can no longer be read.
func (c *Client) DeviceKey(ctx context.Context) ([]byte, error) {
	var out struct {
		DeviceKey string `json:"device_key"`
	}
	if err := c.do(ctx, &request{method: http.MethodGet, path: "/api/v1/me/device-key", retry: true}, &out); err != nil {
		return nil, err
	}
	k, err := base64.StdEncoding.DecodeString(out.DeviceKey)
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("atrium: malformed device key")
	}
	return k, nil
}

// ConfirmWipe tells the server the device erased its local data after the
// wipe command; the session then ends.
func (c *Client) ConfirmWipe(ctx context.Context) error {
	return c.do(ctx, &request{method: http.MethodPost, path: "/api/v1/me/wipe"}, nil)
}

// Eraser is local data a wipe erases, such as a *cache.Cache.
type Eraser interface{ Erase() error }

// Wipe carries out the wipe command (a stream ending with ErrDeviceWiped):
// it erases every local store given, then confirms to the server. If
// erasing fails, nothing is confirmed.
func (c *Client) Wipe(ctx context.Context, stores ...Eraser) error {
	for _, s := range stores {
		if err := s.Erase(); err != nil {
			return fmt.Errorf("atrium: wiping local data: %w", err)
		}
	}
	if err := c.ConfirmWipe(ctx); err != nil {
		return err
	}
	c.SetToken("")
	return nil
}

// ListDevices returns a page of a user's devices with their last use,
// address, platform and any wipe's state (the user themselves, or an
// administrator).
func (c *Client) ListDevices(ctx context.Context, userID string, opts ListOptions) (*Page[*atrium.Session], error) {
	var out Page[*atrium.Session]
	err := c.do(ctx, &request{method: http.MethodGet, path: pathf("/api/v1/users/%s/devices", userID), query: opts.values(), retry: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// LogoutDevice ends one of a user's sessions: remote logout.
func (c *Client) LogoutDevice(ctx context.Context, userID, sessionID string) error {
	return c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/users/%s/devices/%s", userID, sessionID), retry: true}, nil)
}

// LogoutAllDevices ends every session of a user and returns how many.
func (c *Client) LogoutAllDevices(ctx context.Context, userID string) (int, error) {
	var out struct {
		Ended int `json:"ended"`
	}
	err := c.do(ctx, &request{method: http.MethodDelete, path: pathf("/api/v1/users/%s/devices", userID), retry: true}, &out)
	return out.Ended, err
}

// WipeDevice asks one of a user's devices to wipe itself; the session is
// returned with the wipe's state (pending until the device confirms).
func (c *Client) WipeDevice(ctx context.Context, userID, sessionID string) (*atrium.Session, error) {
	var out atrium.Session
	err := c.do(ctx, &request{method: http.MethodPost, path: pathf("/api/v1/users/%s/devices/%s/wipe", userID, sessionID)}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}
