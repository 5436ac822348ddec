package loadgen

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// The soak plot's colours; errorColor marks intervals with errors and is
// used for nothing else (the plot's test looks for it).
var (
	p50Color   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	p99Color   = color.RGBA{R: 255, G: 127, B: 14, A: 255}
	readColor  = color.RGBA{R: 44, G: 160, B: 44, A: 255}
	rssColor   = color.RGBA{R: 31, G: 119, B: 180, A: 255}
	heapColor  = color.RGBA{R: 148, G: 103, B: 189, A: 255}
	errorColor = color.RGBA{R: 220, A: 255}
)

// writeSoakPlot draws the soak's latency (top, log scale) and the
// server's memory (bottom) over time into a PNG file, intervals with
// errors marked with crosses.
func writeSoakPlot(name string, r *soakReport) error {
	lat, err := latencyPlot(r)
	if err != nil {
		return err
	}
	mem, err := memoryPlot(r)
	if err != nil {
		return err
	}
	img := vgimg.NewWith(vgimg.UseWH(10*vg.Inch, 8*vg.Inch), vgimg.UseDPI(96))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3,
		PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3, PadY: vg.Millimeter * 6}
	cs := plot.Align([][]*plot.Plot{{lat}, {mem}}, tiles, dc)
	lat.Draw(cs[0][0])
	mem.Draw(cs[1][0])
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("--soak-plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("--soak-plot %s: %w", name, err)
	}
	return f.Close()
}

// series returns the points (interval end, y(interval)); y is floored at
// min so that a log scale can show it.
func series(ivs []interval, floor float64, y func(interval) float64) plotter.XYs {
	xys := make(plotter.XYs, len(ivs))
	for i, iv := range ivs {
		xys[i] = plotter.XY{X: iv.At, Y: max(floor, y(iv))}
	}
	return xys
}

func latencyPlot(r *soakReport) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("soak: %.0f writes/s offered, %d readers; errors: %s", r.Rate, r.Readers, formatErrors(r.Errors))
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	const floor = 0.1
	lines := []struct {
		name string
		c    color.Color
		y    func(interval) float64
	}{
		{"write p50", p50Color, func(iv interval) float64 { return iv.WriteP50 }},
		{"write p99", p99Color, func(iv interval) float64 { return iv.WriteP99 }},
		{"read p99", readColor, func(iv interval) float64 { return iv.ReadP99 }},
	}
	for _, s := range lines {
		l, err := plotter.NewLine(series(r.Intervals, floor, s.y))
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = s.c, vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	var bad []interval
	for _, iv := range r.Intervals {
		if iv.errorCount() > 0 {
			bad = append(bad, iv)
		}
	}
	if len(bad) > 0 {
		sc, err := plotter.NewScatter(series(bad, floor, func(iv interval) float64 { return iv.WriteP99 }))
		if err != nil {
			return nil, err
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: errorColor, Radius: vg.Points(6), Shape: draw.CrossGlyph{}}
		p.Add(sc)
		p.Legend.Add("interval with errors", sc)
	}
	return p, nil
}

func memoryPlot(r *soakReport) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = "pledgelog serve: memory"
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = "MiB"
	p.Y.Min = 0
	for _, s := range []struct {
		name string
		c    color.Color
		y    func(interval) float64
	}{
		{"RSS (VmRSS)", rssColor, func(iv interval) float64 { return iv.RSSMiB }},
		{"Go heap in use", heapColor, func(iv interval) float64 { return iv.HeapMiB }},
	} {
		l, err := plotter.NewLine(series(r.Intervals, 0, s.y))
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = s.c, vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.name, l)
	}
	return p, nil
}
