package loadgen

import (
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, time.Millisecond}, {0.5, 51 * time.Millisecond}, {0.99, 100 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := percentile(d, c.q); got != c.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of none = %v, want 0", got)
	}
}

func TestStatusField(t *testing.T) {
	status := "Name:\tpledgelog\nVmPeak:\t 2000000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   98765 kB\nThreads:\t12\n"
	if got, err := statusField(strings.NewReader(status), "VmRSS"); err != nil || got != 98765 {
		t.Errorf("VmRSS = %v, %v; want 98765", got, err)
	}
	if got, err := statusField(strings.NewReader(status), "VmHWM"); err != nil || got != 123456 {
		t.Errorf("VmHWM = %v, %v; want 123456", got, err)
	}
	if _, err := statusField(strings.NewReader(status), "VmSwap"); err == nil {
		t.Error("a missing field gave no error")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc")
	}
	kib, err := procStatusKiB(os.Getpid(), "VmRSS")
	if err != nil || kib < 1024 {
		t.Errorf("this test's VmRSS = %v KiB, %v; want over 1 MiB", kib, err)
	}
}

func TestStatCPU(t *testing.T) {
	// utime (field 14) 150 ticks, stime (15) 50; the command name holds
	// a space and a parenthesis.
	line := "1234 (a) b) R 1 1 1 0 -1 4194304 100 0 0 0 150 50 0 0 20 0 1 0 99 1000 10\n"
	if got, err := statCPU(line); err != nil || got != 2*time.Second {
		t.Errorf("statCPU = %v, %v; want 2s", got, err)
	}
	if _, err := statCPU("1234 (a) R 1 2"); err == nil {
		t.Error("a short stat line gave no error")
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	before := procCPU(os.Getpid())
	for start := time.Now(); procCPU(os.Getpid()) < before+3*clockTick; { // spin
		if time.Since(start) > 10*time.Second {
			t.Fatalf("procCPU stayed at %v over 10 s of spinning", before)
		}
	}
}

func TestWindow(t *testing.T) {
	w := newWindow()
	for i := 1; i <= 100; i++ {
		w.add("write", time.Duration(i)*time.Millisecond, "")
		w.add("tile", time.Duration(i)*time.Microsecond, "")
	}
	w.add("write", 0, "503")
	w.add("write", 0, "503")
	w.add("home", 0, "transport")
	iv := w.take(10 * time.Second)
	if iv.Writes != 100 || iv.Reads != 100 || iv.WriteP50 != 51 || iv.WriteP99 != 100 || iv.ReadP99 != 0.1 || iv.Span != 10 {
		t.Errorf("interval = %+v; want 100 writes p50 51 ms p99 100 ms, 100 reads p99 0.1 ms, 10 s", iv)
	}
	if got := formatErrors(iv.Errors); got != "home transport: 1, write 503: 2" {
		t.Errorf("errors = %q", got)
	}
	if iv2 := w.take(15 * time.Second); iv2.Writes != 0 || iv2.errorCount() != 0 || iv2.Span != 5 {
		t.Errorf("second interval = %+v; want empty, 5 s", iv2)
	}
	if got := sumErrors([]interval{iv, iv}); got["write 503"] != 4 {
		t.Errorf("sumErrors = %v", got)
	}
}

func TestFailure(t *testing.T) {
	for _, c := range []struct {
		status int
		err    error
		ok     []int
		want   string
	}{
		{200, nil, nil, ""}, {404, nil, nil, "404"}, {201, nil, []int{201, 200}, ""},
		{503, nil, []int{201, 200}, "503"}, {0, errors.New("reset"), nil, "transport"},
	} {
		if got := failure(c.status, c.err, c.ok...); got != c.want {
			t.Errorf("failure(%d, %v, %v) = %q, want %q", c.status, c.err, c.ok, got, c.want)
		}
	}
}

func TestMetricValue(t *testing.T) {
	text := "# HELP go_memstats_heap_inuse_bytes x\ngo_memstats_heap_inuse_bytes_total 1\ngo_memstats_heap_inuse_bytes 4.194304e+06\n"
	if got := metricValue(strings.NewReader(text), "go_memstats_heap_inuse_bytes"); got != 4194304 {
		t.Errorf("metricValue = %v, want 4194304", got)
	}
}

func TestCoverLatencies(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	acks := []ack{{at(0), 5}, {at(100), 10}, {at(3000), 20}}
	seen := []sighting{
		{at(-10), at(70), 6},     // sent before the first ack: does not count
		{at(50), at(60), 6},      // covers index 5
		{at(200), at(210), 8},    // covers neither 10 nor 20
		{at(1000), at(1010), 11}, // covers 10
		{at(3500), at(3510), 15}, // 20 is never covered
	}
	lat, missing := coverLatencies(acks, seen)
	want := []time.Duration{60 * time.Millisecond, 910 * time.Millisecond}
	if missing != 1 || len(lat) != 2 || lat[0] != want[0] || lat[1] != want[1] {
		t.Errorf("coverLatencies = %v, %d missing; want %v, 1 missing", lat, missing, want)
	}
}

// TestSoakPlot draws the plot and checks that it is a PNG of the size
// asked, with the error marks exactly when an interval had errors.
func TestSoakPlot(t *testing.T) {
	var ivs []interval
	for i := 1; i <= 30; i++ {
		ivs = append(ivs, interval{At: float64(10 * i), Span: 10, Writes: 1000, Reads: 500, WriteP50: 4, WriteP99: 20 + float64(i),
			ReadP50: 1, ReadP99: 8, RSSMiB: 100 + float64(i), HeapMiB: 30, Errors: map[string]int{}})
	}
	for _, withErrors := range []bool{false, true} {
		if withErrors {
			ivs[12].Errors["write 503"] = 3
		}
		rep := &soakReport{Rate: 1000, Readers: 4, Intervals: ivs, Errors: sumErrors(ivs)}
		name := filepath.Join(t.TempDir(), "soak.png")
		if err := writeSoakPlot(name, rep); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("the plot is no PNG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 960 || b.Dy() != 768 {
			t.Errorf("plot is %v, want 960×768 (10×8 in at 96 dpi)", b)
		}
		marks := 0
		for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
			for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
				if r, g, b, _ := img.At(x, y).RGBA(); r>>8 > 150 && g>>8 < 60 && b>>8 < 60 { // the error colour, anti-aliased
					marks++
				}
			}
		}
		if withErrors != (marks > 0) {
			t.Errorf("with errors %v: %d pixels of the error colour", withErrors, marks)
		}
	}
}
