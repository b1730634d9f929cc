package store

import "testing"

func TestFullXID(t *testing.T) {
	const epoch = int64(1) << 32
	cases := []struct{ x32, ref, want int64 }{
		{100, 200, 100},                     // epoch 0
		{100, epoch + 200, epoch + 100},     // epoch 1
		{0xFFFFFFF0, epoch + 5, 0xFFFFFFF0}, // assigned just before the epoch turned
		{199, epoch*3 + 200, epoch*3 + 199}, // the newest finished id
		{0xFFFFFFFF, epoch * 2, epoch + 0xFFFFFFFF},
		{250, 200, 250},                 // running, above the newest finished id
		{250, epoch + 200, epoch + 250}, // the same in epoch 1
		{3, epoch - 5, epoch + 3},       // running, in the next epoch already
	}
	for _, c := range cases {
		if got := fullXID(c.x32, c.ref); got != c.want {
			t.Errorf("fullXID(%d, %d) = %d, want %d", c.x32, c.ref, got, c.want)
		}
	}
}

func TestHistogramRoundTrip(t *testing.T) {
	h := map[int]int64{0: 3, 17: 1, 240: 12}
	s := FormatHistogram(h)
	if s != "0:3,17:1,240:12" {
		t.Fatalf("formatted %q", s)
	}
	got := ParseHistogram(s + ",junk,5:x")
	if len(got) != 3 || got[17] != 1 || got[240] != 12 {
		t.Fatalf("parsed %v", got)
	}
	if len(ParseHistogram("")) != 0 {
		t.Fatal("an empty histogram has entries")
	}
}
