package pack

// An Entry is one line of `agentd pack list`.
type Entry struct {
	Name        string
	Version     string // "" when the manifest is invalid
	Description string
	Problem     string // why the folder is not a valid pack, if it is not
	// State and Why come from a running daemon's status file: State is
	// StateLoaded, StateFailed or StateSkipped ("" when no daemon runs on
	// the packs_dir, or it does not know the pack yet).
	State, Why string
}

// List describes the packs installed in packsDir and, when a daemon runs
// on it, what that daemon does with them (running is then true).
func List(packsDir string) (entries []Entry, running bool, err error) {
	installed, err := Scan(packsDir)
	if err != nil {
		return nil, false, err
	}
	status, err := ReadStatus(packsDir)
	if err != nil {
		return nil, false, err
	}
	for _, in := range installed {
		e := Entry{Name: in.Name}
		if in.Manifest != nil {
			e.Version, e.Description = in.Manifest.Version.String(), in.Manifest.Description
		} else {
			e.Problem = in.Err.Error()
		}
		if status != nil {
			if ps, ok := status.Packs[in.Name]; ok {
				e.State, e.Why = ps.State, ps.Error
			}
		}
		entries = append(entries, e)
	}
	return entries, status != nil, nil
}
