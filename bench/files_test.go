package bench

import (
	"math"
	"testing"
	"time"
)

func TestFileRowRates(t *testing.T) {
	cases := []struct {
		name    string
		row     FileRow
		cores   int
		rawOpen float64
		server  float64 // MiB/s per core of server CPU
		ceiling float64 // MiB/s
	}{
		// 1 GiB sent with 0.5 s of server CPU: 2048 MiB/s per core. The plain
		// file took 0.5 s of CPU per GiB and decrypting takes 1 s more: two
		// cores give at most 2/1.5 GiB/s.
		{"measured", FileRow{Size: 1 << 30, Count: 1, ServerCPU: 500 * time.Millisecond, PlainCPU: 500 * time.Millisecond}, 2, 1024, 2048, 2048.0 / 1.5},
		{"32 files", FileRow{Size: 1 << 20, Count: 32, ServerCPU: 32 * time.Millisecond, PlainCPU: time.Second}, 4, 1024, 1000, 2048},
		{"nothing measured", FileRow{Size: 1 << 30, Count: 1}, 2, 1024, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.row.ServerRate(); math.Abs(got-c.server) > 0.01 {
				t.Errorf("ServerRate = %.2f, want %.2f", got, c.server)
			}
			if got := c.row.Ceiling(c.cores, c.rawOpen); math.Abs(got-c.ceiling) > 0.01 {
				t.Errorf("Ceiling = %.2f, want %.2f", got, c.ceiling)
			}
		})
	}
}
