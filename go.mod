module github.com/agentd/agentd

go 1.26.8

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/Masterminds/semver/v3 v3.5.0
	github.com/fsnotify/fsnotify v1.10.1
	github.com/yuin/gopher-lua v1.1.1
	golang.org/x/sys v0.13.0
	layeh.com/gopher-luar v1.0.11
)
