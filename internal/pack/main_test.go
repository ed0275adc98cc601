package pack

import (
	"os"
	"testing"

	"github.com/agentd/agentd/internal/leakcheck"
)

// RunTests starts and stops runtimes: none may leave a goroutine behind.
func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m, os.Stderr)) }
