package store

import "testing"

func TestFullXID(t *testing.T) {
	const epoch = int64(1) << 32
	cases := []struct{ x32, next, want int64 }{
		{100, 200, 100},                     // epoch 0
		{100, epoch + 200, epoch + 100},     // epoch 1
		{0xFFFFFFF0, epoch + 5, 0xFFFFFFF0}, // assigned just before the epoch turned
		{199, epoch*3 + 200, epoch*3 + 199}, // the newest running id
		{0xFFFFFFFF, epoch*2 + 0, epoch + 0xFFFFFFFF},
	}
	for _, c := range cases {
		if got := fullXID(c.x32, c.next); got != c.want {
			t.Errorf("fullXID(%d, %d) = %d, want %d", c.x32, c.next, got, c.want)
		}
	}
}
