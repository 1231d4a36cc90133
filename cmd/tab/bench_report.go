package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// workerStats are one worker's counts, kept without locks.
type workerStats struct {
	submitted int
	acked     int
	sigs      int
	retries   int
	abandoned int
	lat       []time.Duration
	errors    map[string]int
	byLog     map[string]int
	objects   map[objectKey]*objectAcks // only with keepObjects
}

// objectKey names an object in a log.
type objectKey struct{ log, id string }

// objectAcks is what the bench knows an object's state must show.
type objectAcks struct {
	entries int      // acknowledged entries on the object
	last    [32]byte // hash of the latest one
}

func newWorkerStats() *workerStats {
	return &workerStats{errors: map[string]int{}, byLog: map[string]int{}}
}

func (s *workerStats) record(lat time.Duration, it *item) {
	s.acked++
	s.sigs += it.sigs
	s.lat = append(s.lat, lat)
	s.byLog[it.target.name]++
	if s.objects != nil && it.object != "" {
		k := objectKey{it.target.name, it.object}
		o := s.objects[k]
		if o == nil {
			o = &objectAcks{}
			s.objects[k] = o
		}
		o.entries++
		o.last = it.hash
	}
}

// latency summarises durations in milliseconds.
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// summarise returns nil for no samples. It sorts d.
func summarise(d []time.Duration) *latency {
	if len(d) == 0 {
		return nil
	}
	slices.Sort(d)
	q := func(p float64) float64 {
		i := int(p*float64(len(d))+0.5) - 1 // nearest rank
		return ms(d[min(max(i, 0), len(d)-1)])
	}
	return &latency{N: len(d), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// report is the result of a run; its JSON form is the bench's last line.
type report struct {
	Mode               string         `json:"mode"` // "registry" or "raw"
	Mix                string         `json:"mix,omitempty"`
	Server             string         `json:"server"`
	Logs               []string       `json:"logs"`
	Clients            int            `json:"clients"`
	OfferedPerS        float64        `json:"offered_per_s"` // 0: as fast as possible
	Prepared           int            `json:"prepared"`
	PrepareS           float64        `json:"prepare_s"`
	SignedDuringRun    int            `json:"signed_during_run"`
	ElapsedS           float64        `json:"elapsed_s"`
	Submitted          int            `json:"submitted"`
	Acknowledged       int            `json:"acknowledged"`
	AchievedPerS       float64        `json:"achieved_per_s"`
	ByLog              map[string]int `json:"acknowledged_by_log"`
	Errors             map[string]int `json:"errors"`
	Retries503         int            `json:"retries_503"`
	Abandoned          int            `json:"abandoned"`
	Skipped            int            `json:"skipped"`
	Backlog            int64          `json:"backlog"`
	AckLatency         *latency       `json:"ack_latency_ms"`
	PublishedLatency   *latency       `json:"published_latency_ms,omitempty"`
	Unpublished        int            `json:"unpublished,omitempty"`
	CheckpointErrors   int            `json:"checkpoint_errors,omitempty"`
	SignaturesPerEntry float64        `json:"signatures_per_entry"`
	VerificationsPerS  float64        `json:"verifications_per_s"`
	CeilingFraction    float64        `json:"verify_ceiling_fraction"`
	Reads              int            `json:"reads"`
	ReadsPerS          float64        `json:"reads_per_s"`
	ReadErrors         map[string]int `json:"read_errors,omitempty"`
	ReadLatency        *latency       `json:"read_latency_ms,omitempty"`
	ServerRSS          int64          `json:"server_rss_bytes,omitempty"`
	ServerRSSMax       int64          `json:"server_rss_max_bytes,omitempty"`
	ServerRSSPeak      int64          `json:"server_rss_hwm_bytes,omitempty"`

	objects map[objectKey]*objectAcks // with keepObjects
}

func (r *run) summarise(stats []*workerStats, queues []*queue, elapsed time.Duration) *report {
	rep := &report{Mode: "registry", Mix: r.c.mix, Server: r.c.server, Clients: r.c.clients, OfferedPerS: r.c.rate,
		Prepared: r.c.prepared(), ElapsedS: elapsed.Seconds(), ByLog: map[string]int{}, Errors: map[string]int{}}
	if r.c.rawAdd != "" {
		rep.Mode, rep.Mix, rep.Server = "raw", "", r.c.rawAdd
	}
	var lat []time.Duration
	sigs := 0
	for _, s := range stats {
		if s.objects != nil {
			if rep.objects == nil {
				rep.objects = map[objectKey]*objectAcks{}
			}
			maps.Copy(rep.objects, s.objects)
		}
		rep.Submitted += s.submitted
		rep.Acknowledged += s.acked
		rep.Retries503 += s.retries
		rep.Abandoned += s.abandoned
		sigs += s.sigs
		lat = append(lat, s.lat...)
		addCounts(rep.Errors, s.errors)
		addCounts(rep.ByLog, s.byLog)
	}
	for _, q := range queues {
		rep.Skipped += q.skipped
		rep.SignedDuringRun += q.late
	}
	rep.Logs = slices.Sorted(maps.Keys(rep.ByLog))
	rep.Backlog = max(r.offered(elapsed)-int64(rep.Submitted), 0)
	rep.AckLatency = summarise(lat)
	rep.AchievedPerS = float64(rep.Acknowledged) / elapsed.Seconds()
	if rep.Acknowledged > 0 {
		rep.SignaturesPerEntry = float64(sigs) / float64(rep.Acknowledged)
	}
	rep.VerificationsPerS = float64(sigs) / elapsed.Seconds()
	rep.CeilingFraction = rep.VerificationsPerS / r.c.ceiling
	return rep
}

func addCounts(to, from map[string]int) {
	for k, v := range from {
		to[k] += v
	}
}

func (rep *report) addPublished(watches map[*target]*publishWatch, unpublished int) {
	var lat []time.Duration
	for _, w := range watches {
		w.mu.Lock()
		lat = append(lat, w.lat...)
		rep.CheckpointErrors += w.errs
		w.mu.Unlock()
	}
	rep.PublishedLatency, rep.Unpublished = summarise(lat), unpublished
}

func (rep *report) addReads(rd *readers, elapsed time.Duration) {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	rep.Reads = len(rd.lat)
	rep.ReadsPerS = float64(rep.Reads) / elapsed.Seconds()
	rep.ReadErrors = rd.errors
	rep.ReadLatency = summarise(rd.lat)
}

func (rep *report) addRSS(s *rssSampler) {
	rep.ServerRSS, rep.ServerRSSMax, rep.ServerRSSPeak = s.last, s.max, s.hwm
}

// write prints a summary for people, then the report as one JSON line, last.
func (rep *report) write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d acknowledged in %.1fs = %.0f entries/s", rep.Mode, rep.Mix, rep.Acknowledged, rep.ElapsedS, rep.AchievedPerS)
	if rep.OfferedPerS > 0 {
		fmt.Fprintf(&b, " (offered %.0f/s, backlog %d)", rep.OfferedPerS, rep.Backlog)
	}
	fmt.Fprintf(&b, "\nerrors %v, 503 retries %d, abandoned %d, skipped %d\n", rep.Errors, rep.Retries503, rep.Abandoned, rep.Skipped)
	fmt.Fprintf(&b, "ack latency ms %s\n", rep.AckLatency)
	if rep.PublishedLatency != nil {
		fmt.Fprintf(&b, "published latency ms %s (unpublished %d)\n", rep.PublishedLatency, rep.Unpublished)
	}
	fmt.Fprintf(&b, "%.2f signatures/entry, %.0f verifications/s = %.1f%% of the ceiling\n", rep.SignaturesPerEntry, rep.VerificationsPerS, 100*rep.CeilingFraction)
	if rep.Reads > 0 {
		fmt.Fprintf(&b, "reads %d = %.0f/s, errors %v, latency ms %s\n", rep.Reads, rep.ReadsPerS, rep.ReadErrors, rep.ReadLatency)
	}
	if rep.ServerRSS > 0 {
		fmt.Fprintf(&b, "server RSS %d MiB (max sampled %d MiB, peak %d MiB)\n", rep.ServerRSS>>20, rep.ServerRSSMax>>20, rep.ServerRSSPeak>>20)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	b.Write(js)
	b.WriteByte('\n')
	_, err = io.WriteString(w, b.String())
	return err
}

func (l *latency) String() string {
	if l == nil {
		return "none"
	}
	return fmt.Sprintf("p50 %.1f p90 %.1f p99 %.1f max %.1f (n=%d)", l.P50, l.P90, l.P99, l.Max, l.N)
}
