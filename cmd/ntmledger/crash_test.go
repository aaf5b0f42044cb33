package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ntmledger/ntmledger/internal/natstest"
	"github.com/ntmledger/ntmledger/internal/scenario"
	"github.com/ntmledger/ntmledger/ledger"
	"github.com/ntmledger/ntmledger/projections"
)

// The crash tests re-run this test binary as a child process (selected by
// NTM_TEST_CHILD) and kill it with SIGKILL: no deferred cleanup, no graceful
// shutdown, exactly what a power cut or an OOM kill leaves behind.
func TestMain(m *testing.M) {
	switch os.Getenv("NTM_TEST_CHILD") {
	case "":
		os.Exit(m.Run())
	case "serve":
		env := &Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
		if err := Run(context.Background(), env, strings.Fields(os.Getenv("NTM_TEST_ARGS"))); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	case "views":
		os.Exit(childViews())
	default:
		os.Exit(3)
	}
}

// childViews runs the views projector against NTM_TEST_NATS into
// NTM_TEST_DIR, printing its progress, until it holds NTM_TEST_TARGET.
func childViews() int {
	nc, err := nats.Connect(os.Getenv("NTM_TEST_NATS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	js, _ := jetstream.New(nc)
	target, _ := strconv.ParseUint(os.Getenv("NTM_TEST_TARGET"), 10, 64)
	v, err := projections.Open(context.Background(), projections.Config{JS: js, Stream: ledger.StreamName, Dir: os.Getenv("NTM_TEST_DIR")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		a := v.Applied()
		fmt.Printf("applied %d\n", a)
		if a >= target {
			v.Close()
			return 0
		}
		time.Sleep(time.Millisecond)
	}
}

func child(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"NTM_TEST_CHILD=" + mode}, env...)...)
	cmd.Stderr = os.Stderr
	return cmd
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// poll retries fn until it succeeds or the deadline passes.
func poll(t *testing.T, what string, d time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startServer(t *testing.T, dir, addr string) *exec.Cmd {
	t.Helper()
	cmd := child(t, "serve", "NTM_TEST_ARGS=serve --data "+dir+" --http "+addr+" --nats-listen none --log-level warn")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	poll(t, "server up", 60*time.Second, func() error {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})
	return cmd
}

type appendResult struct {
	Events []ledger.Result `json:"events"`
}

func post(t *testing.T, addr string, body []byte) appendResult {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/v1/events", "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
	var r appendResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func jsonLines(t *testing.T, v []any) []byte {
	var buf bytes.Buffer
	for _, x := range v {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

func TestServerKilledAfterAckKeepsTheEvent(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	srv := startServer(t, dir, addr)
	ins := scenario.Events(scenario.Config{Communes: 3, Years: 1})
	var reqs [][]any
	reqs = append(reqs, []any{ins[0], ins[1], ins[2], ins[3], ins[4]}) // registrations, one batch
	reqs = append(reqs, []any{ins[5]})                                 // a single publish
	var batch []any
	for _, in := range ins[6:26] {
		batch = append(batch, in)
	}
	reqs = append(reqs, batch) // an atomic batch
	var acked []ledger.Result
	for round, req := range reqs {
		res := post(t, addr, jsonLines(t, req))
		// SIGKILL right after the acknowledgement.
		if err := srv.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		srv.Wait()
		acked = append(acked, res.Events...)
		srv = startServer(t, dir, addr)
		last := acked[len(acked)-1].Seq
		for _, r := range acked {
			resp, err := http.Get(fmt.Sprintf("http://%s/v1/units/%s/history?min_seq=%d", addr, r.Unit, last))
			if err != nil {
				t.Fatal(err)
			}
			var h projections.History
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			found := false
			for _, e := range h.Events {
				found = found || (e.ID == r.ID && e.Seq == r.Seq && e.Version == r.Version)
			}
			if !found {
				t.Fatalf("round %d: acknowledged event %+v missing after SIGKILL and restart (history %+v)", round, r, h)
			}
		}
	}
}

func TestProjectorKilledMidStreamEndsIdenticalToCleanRebuild(t *testing.T) {
	srv := natstest.Start(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	l, err := ledger.Open(ctx, ledger.Config{JS: srv.JS, IndexDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var target uint64
	for _, b := range scenario.Batches(scenario.Events(scenario.Config{Communes: 600, Years: 4, WithNoise: true}), ledger.MaxBatch) {
		res, err := l.Append(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		target = res[len(res)-1].Seq
	}
	dir := t.TempDir()
	env := []string{"NTM_TEST_NATS=" + srv.ClientURL(), "NTM_TEST_DIR=" + dir, fmt.Sprintf("NTM_TEST_TARGET=%d", target)}
	kills, midStream := 0, 0
	for done := false; !done; {
		cmd := child(t, "views", env...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var start, last uint64
		lines := 0
		for sc.Scan() {
			n, _ := strconv.ParseUint(strings.TrimPrefix(sc.Text(), "applied "), 10, 64)
			if lines == 0 {
				start = n
			}
			lines++
			last = n
			// Kill once the child has made progress past where it started,
			// at a point that moves on each round.
			if kills < 12 && n > start && lines > 1+kills {
				cmd.Process.Kill()
				kills++
				if n < target {
					midStream++
				}
				break
			}
		}
		io.Copy(io.Discard, out)
		err = cmd.Wait()
		if err == nil {
			done = last >= target
		}
		if kills > 12 && !done {
			t.Fatalf("projector did not finish after %d kills", kills)
		}
	}
	if midStream == 0 {
		t.Fatalf("no kill landed mid-stream (%d kills): the test proved nothing", kills)
	}
	t.Logf("%d kills, %d mid-stream, %d events", kills, midStream, target)

	crashed, err := projections.Open(ctx, projections.Config{JS: srv.JS, Stream: ledger.StreamName, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer crashed.Close()
	clean, err := projections.Open(ctx, projections.Config{JS: srv.JS, Stream: ledger.StreamName, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer clean.Close()
	if err := clean.WaitApplied(ctx, target); err != nil {
		t.Fatal(err)
	}
	a, na := digest(t, crashed)
	b, nb := digest(t, clean)
	if a != b || na != nb {
		t.Fatalf("views after %d SIGKILLs differ from a clean rebuild: %s (%d keys) vs %s (%d keys)", kills, a, na, b, nb)
	}
}

func digest(t *testing.T, v *projections.Views) (string, int) {
	t.Helper()
	var buf bytes.Buffer
	n := 0
	if _, err := v.Dump(func(k, val []byte) error {
		n++
		fmt.Fprintf(&buf, "%q=%q\n", k, val)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(buf.Bytes())), n
}
