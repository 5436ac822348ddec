package web

import (
	"fmt"
	"slices"
)

// chart is the log's growth as an inline SVG line: tree size by
// checkpoint, oldest first. Checkpoints carry no time, so the x axis
// counts checkpoints.
type chart struct {
	Width, Height int
	Points        string // the polyline's points attribute
	Max           uint64
	Count         int
	Ticks         []tick
}

type tick struct {
	Y     int
	Label string
}

const (
	chartW, chartH = 600, 180
	chartPad       = 40
)

// growthChart draws history (newest first).
func growthChart(history []checkpointView) chart {
	c := chart{Width: chartW, Height: chartH, Count: len(history)}
	sizes := make([]uint64, 0, len(history))
	for _, h := range history {
		sizes = append(sizes, h.Size)
	}
	slices.Reverse(sizes)
	if len(sizes) == 0 {
		return c
	}
	c.Max = max(slices.Max(sizes), 1)
	plotW, plotH := chartW-chartPad-10, chartH-30
	for i, s := range sizes {
		x := chartPad
		if len(sizes) > 1 {
			x += i * plotW / (len(sizes) - 1)
		}
		y := 10 + plotH - int(s*uint64(plotH)/c.Max)
		c.Points += fmt.Sprintf("%d,%d ", x, y)
	}
	for _, f := range []uint64{0, 2, 4} {
		v := c.Max * f / 4
		c.Ticks = append(c.Ticks, tick{Y: 10 + plotH - int(v*uint64(plotH)/c.Max), Label: fmt.Sprint(v)})
	}
	return c
}
