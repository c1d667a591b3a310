package loadtest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestRecorder(t *testing.T) {
	var onError int
	var mu sync.Mutex
	rec := newRecorder("tasks", func() { mu.Lock(); onError++; mu.Unlock() })

	// 8 goroutines: 100 successful calls of 10 items, 3 failed ones.
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				if g == 0 && i < 3 {
					rec.call("RegisterTasks", time.Millisecond, 10, status.Error(codes.InvalidArgument, fmt.Sprintf("OE0101: bad task %d", i)))
					continue
				}
				rec.call("RegisterTasks", time.Duration(i+1)*time.Millisecond, 10, nil)
			}
		})
	}
	wg.Wait()
	rec.call("GetTask", 2*time.Millisecond, 1, nil)
	rec.addItems(5)
	rec.fail(errors.New("check: wrong answer"))
	rec.note("%d things", 3)
	for range 10 {
		rec.fail(errors.New("more"))
	}
	res := rec.finish()

	if res.Name != "tasks" || res.Calls != 801 || res.Items != 797*10+1+5 {
		t.Errorf("name %q calls %d items %d; want tasks 801 %d", res.Name, res.Calls, res.Items, 797*10+1+5)
	}
	if res.Errors != 14 || res.MethodErrors != 3 || onError != 14 {
		t.Errorf("errors %d call errors %d onError calls %d; want 14 3 14", res.Errors, res.MethodErrors, onError)
	}
	if len(res.FirstErrors) != maxErrorSamples {
		t.Fatalf("kept %d error messages, want %d", len(res.FirstErrors), maxErrorSamples)
	}
	if !strings.HasPrefix(res.FirstErrors[0], "RegisterTasks: rpc error: code = InvalidArgument desc = OE0101: bad task") ||
		!strings.HasSuffix(res.FirstErrors[0], "[InvalidArgument]") {
		t.Errorf("first error %q: want the method, the message and the code", res.FirstErrors[0])
	}
	if res.FirstErrors[3] != "check: wrong answer" {
		t.Errorf("fourth error %q, want the failed check", res.FirstErrors[3])
	}
	if len(res.Notes) != 1 || res.Notes[0] != "3 things" {
		t.Errorf("notes %q", res.Notes)
	}
	if len(res.Methods) != 2 || res.Methods[0].Method != "GetTask" || res.Methods[1].Method != "RegisterTasks" {
		t.Fatalf("methods %+v, want GetTask then RegisterTasks", res.Methods)
	}
	rt := res.Methods[1]
	if rt.Calls != 800 || rt.Errors != 3 {
		t.Errorf("RegisterTasks: calls %d errors %d, want 800 3", rt.Calls, rt.Errors)
	}
	// Durations 1..100 ms, each 8 times (except 3 of the 1 ms ones, which
	// failed but took 1 ms too): p50 about 50 ms, max 100 ms.
	if rt.P50ms < 49 || rt.P50ms > 51.5 || rt.MaxMs != 100 {
		t.Errorf("RegisterTasks p50 %v max %v, want about 50 and 100", rt.P50ms, rt.MaxMs)
	}
	if res.Seconds <= 0 || res.CallsPerSec != float64(res.Calls)/res.Seconds || res.ItemsPerSec != float64(res.Items)/res.Seconds {
		t.Errorf("rates: %v s, %v calls/s, %v items/s", res.Seconds, res.CallsPerSec, res.ItemsPerSec)
	}
}

func TestEmptyRecorder(t *testing.T) {
	res := newRecorder("nothing", nil).finish()
	if res.Calls != 0 || res.Errors != 0 || res.P99ms != 0 || len(res.Methods) != 0 {
		t.Fatalf("empty phase: %+v", res)
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "plain"},
		{status.Error(codes.NotFound, "OE0002: gone"), "rpc error: code = NotFound desc = OE0002: gone [NotFound]"},
		{fmt.Errorf("GetTask: %w", status.Error(codes.Aborted, "retry")), "GetTask: rpc error: code = Aborted desc = retry [Aborted]"},
	}
	for _, tt := range tests {
		if got := errorText(tt.err); got != tt.want {
			t.Errorf("errorText(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
