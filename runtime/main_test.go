package runtime

import (
	"os"
	"testing"

	"github.com/agentd/agentd/internal/leakcheck"
)

func TestMain(m *testing.M) { os.Exit(leakcheck.Main(m, os.Stderr)) }
