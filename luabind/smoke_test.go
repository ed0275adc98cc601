package luabind

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/agentd/agentd/internal/logging"
	"github.com/agentd/agentd/runtime"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSmoke(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, logs syncBuffer
		rt := runtime.New(runtime.Options{Logger: logging.New(&logs, "text", logging.LevelDebug), ProcessIdentity: "h:1"})
		h := NewHost(rt, Options{Stdout: &out})
		for _, f := range []string{"testdata/smoke_sub.lua", "testdata/smoke_pub.lua", "testdata/smoke_calc.lua"} {
			if _, err := h.Load(f); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if err := rt.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Logf("output:\n%s", out.String())
		t.Logf("logs:\n%s", logs.String())
		for _, want := range []string{
			"report\tpublisher\tsystem.ctime\t1\tsystem.*",
			"report\tpublisher\tsystem.time\t3\tsystem.*",
			"add\t5", "twice\t42", "boom\tfalse\t57\tnetsvc\tkaboom", "nope\tfalse\t55", "args\t56",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q", want)
			}
		}
	})
}
